"""The employee keys behind the case events (crypto-shredding, kryptografisk sletting).

The case service seals the personal fields of a case's events with the employee's key; the
key id travels in every sealed value (``pd1.<key id>.…``). The deadline service remembers it per
case, seals its own notices with it and treats an event whose key is destroyed as erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, sealing_key_among
from naervaer.privacy.sealing import key_ids_of, sealed_tokens


@dataclass(frozen=True, slots=True)
class EventKeys:
    """The sealed tokens of one event and their key ids, found in one scan of its payload:
    whether it is erased, which key the case remembers and what the opened-events cache
    keeps all read them (issue 8: one scan, not three)."""

    tokens: tuple[str, ...]
    ids: frozenset[str]

    @classmethod
    def of(cls, envelope: Envelope) -> EventKeys:
        return cls.in_data(envelope.data)

    @classmethod
    def in_data(cls, data: Any) -> EventKeys:
        """The keys of a payload as stored (a row's data)."""
        tokens = tuple(sealed_tokens(data))
        return cls(tokens, frozenset(key_ids_of(tokens)))

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
