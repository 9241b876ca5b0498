"""The employee keys behind the case events (crypto-shredding, kryptografisk sletting).

The case service seals the personal fields of a case's events with the employee's key; the
key id travels in every sealed value (``pd1.<key id>.…``). The deadline service remembers it per
case, seals its own notices with it and treats an event whose key is destroyed as erased.
"""

from __future__ import annotations

from dataclasses import dataclass

from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, sealed_key_ids, sealing_key_among


@dataclass(frozen=True)
class EventKeys:
    """The key ids sealed into one event, found in one scan of its payload: whether it is
    erased and which key the case remembers both read them (issue 8: one scan, not two)."""

    ids: frozenset[str]

    @classmethod
    def of(cls, envelope: Envelope) -> EventKeys:
        return cls(frozenset(sealed_key_ids(envelope.data)))

    @property
    def sealing_key_id(self) -> str | None:
        """The key the event is sealed with (``naervaer.privacy.sealing_key_id``'s rule), or
        None when nothing is sealed."""
        return sealing_key_among(self.ids)

    def destroyed(self) -> bool:
        """A sealed value of the event can no longer be opened: its employee was erased.

        Raises ``KeyNotLoaded`` when a key was not loaded (the consumer and the rebuild load
        them before each handler): taking an unasked key for live would derive from erased
        data, and taking it for destroyed would drop the case's deadlines; either hides a
        missing load.
        """
        return any(KEYRING.is_destroyed(key_id) for key_id in self.ids)


def key_destroyed(envelope: Envelope) -> bool:
    """A sealed value of the event can no longer be opened (see ``EventKeys.destroyed``)."""
    return EventKeys.of(envelope).destroyed()
