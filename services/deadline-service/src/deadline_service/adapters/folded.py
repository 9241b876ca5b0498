"""Each live case's facts as last folded, kept across transactions (issue 8, next step 36).

A live case is folded again in every batch that brings it an event, from all of its stored
events. ``adapters.opened`` keeps those events opened, about 2 KiB each, so at a year's size
the memo no longer holds the live cases' histories and each fold opens the stored rows again
(W6 at 20 000 cases: ``CaseEvents.load`` 1.9 % → 13 % of the deadline service from day 60 to
day 300). A fold is incremental (``domain.facts.record``: the facts of the events so far and
one more are the facts of all of them), so the facts folded once, with which stored events
they hold, are where the next fold of the case starts: only the events stored since are
opened and folded.

An entry is used only when the case's stored events begin with exactly the events it was
folded from: the same stream versions, in order. A stored version never changes its event (the
table's key is the case and the version, and storing a version again writes nothing), so the
versions tell the events; anything stored or deleted behind the entry's back — an event of a
lower version arriving late, another consumer's writes, an erasure — makes the case fold from
its events as before. Like an opened event, an entry holds what the
events' sealed values opened to, so it keeps their keys (one token per key, for loading them
again) and is used only while none of them is destroyed; it is dropped when a key is
(``forget_key``), and none is used longer than ``ttl_s`` after it was kept.

The facts are kept as they were folded (reading them changes nothing) and copied at every
use (``CaseFacts.copy``), so folding on never changes what is kept: about 4 KiB a case, and a
copy costs less than folding a dozen events (pickled they took a third of that memory, but
unpickling cost twice a fold).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from deadline_service.adapters.keys import EventKeys
from deadline_service.domain.facts import CaseFacts
from naervaer.privacy.sealing import key_ids_of

DEFAULT_CAPACITY = 10_000
"""Cases kept folded (about 4 KiB each)."""
DEFAULT_TTL_S = 300.0
"""The key ring's time to trust a key, as for opened events (``adapters.opened``)."""


def merged(keys: Iterable[EventKeys]) -> EventKeys:
    """The keys of several events: every key id, and one token naming each (enough to load
    them: ``KEYRING.load_data`` asks for the keys the tokens name)."""
    tokens: dict[str, str] = {}
    for event_keys in keys:
        for token in event_keys.tokens:
            (key_id,) = key_ids_of((token,))
            tokens.setdefault(key_id, token)
    return EventKeys(tuple(tokens.values()), frozenset(tokens))


@dataclass(frozen=True, slots=True)
class Folded:
    """A case's facts folded from the stored events of ``versions``."""

    versions: tuple[int, ...]  # in order
    facts: CaseFacts  # never folded on: only copies are
    keys: EventKeys  # of every event folded
    kept_at: float

    @property
    def count(self) -> int:
        return len(self.versions)

    def holds(self, stored: Sequence[int]) -> bool:
        """Whether the stored events (the versions of all of the case's, in order) begin with
        those this entry was folded from."""
        return tuple(stored[: len(self.versions)]) == self.versions

    def alive(self) -> bool:
        """None of its keys destroyed (ask after ``KEYRING.load_data(self.keys.tokens, …)``)."""
        return not self.keys.destroyed()

    def opened(self) -> CaseFacts:
        """A copy of the facts, to fold more events into."""
        return self.facts.copy()


class FoldedCases:
    """The facts of the cases folded last, by case id."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl_s: float = DEFAULT_TTL_S) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._entries: OrderedDict[str, Folded] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._entries

    @property
    def keeps(self) -> bool:
        """Whether anything is kept at all (a capacity of 0 keeps nothing: a rebuild's)."""
        return self._capacity > 0

    def keep(self, case_id: str, stored: Sequence[int], facts: CaseFacts, keys: EventKeys) -> None:
        """Keep ``facts``, folded from the events of the ``stored`` versions, whose sealed
        values name ``keys`` (not to be changed from now on: the caller only reads them)."""
        if self._capacity == 0:
            return
        entry = Folded(tuple(stored), facts, keys, time.monotonic())
        self._entries[case_id] = entry
        self._entries.move_to_end(case_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def get(self, case_id: str) -> Folded | None:
        """The case's entry, unless it was kept longer than ``ttl_s`` ago (then dropped)."""
        entry = self._entries.get(case_id)
        if entry is None:
            return None
        if time.monotonic() - entry.kept_at > self._ttl_s:
            del self._entries[case_id]
            return None
        self._entries.move_to_end(case_id)
        return entry

    def drop(self, case_id: str) -> None:
        self._entries.pop(case_id, None)

    def forget_key(self, key_id: str) -> None:
        """The key was destroyed (an erasure): no facts opened with it stay in memory."""
        for case_id in [c for c, entry in self._entries.items() if key_id in entry.keys.ids]:
            del self._entries[case_id]
