"""Stored case events already opened, kept across transactions (issue 8).

A timeline is folded from every event of its case, and a live case is folded again in each
batch that brings one of its events: every stored event of the case was read and opened —
JSON decoded, unsealed, upcast, validated — once per fold, a quarter of the live consumer's
CPU in W6. A stored event never changes (its row, found by case and stream version, holds one
event id, and an event id names one payload), so the payload opened once is what opening the
row gives again, as long as the keys it is sealed with live: a token whose key is destroyed
opens as ``ERASED``. So an entry keeps the event's sealed tokens, and is used only once the
key ring has loaded their keys again (the tokens go to ``KEYRING.load_data`` as the row's
data would) and none of them is destroyed; otherwise the row is opened as before.

Bounded: the ``capacity`` events used last, none kept longer than ``ttl_s`` (the key ring's
own time to trust a key, so a plaintext outlives no key by more than that ring does), and an
erasure drops every payload opened with the erased key (``forget_key``). A rebuild keeps the
events of the cases it carries from batch to batch (``ReplayTimeline``): each is folded about
once, when it is written, from the events it opened as they came.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from uuid import UUID

from deadline_service.adapters.keys import EventKeys
from deadline_service.domain.facts import RecordedEvent

DEFAULT_CAPACITY = 20_000
"""Events kept (about 2 KiB each): more than a batch's live cases hold."""
DEFAULT_TTL_S = 300.0
"""The key ring's time to trust a key (``naervaer.privacy.keyring.KeyRing``)."""

Where = tuple[str, int]  # case id, stream version: a stored event's primary key


@dataclass(frozen=True, slots=True)
class Opened:
    """One stored event as the fold takes it, with the sealed tokens it was opened from."""

    where: Where
    event_id: UUID
    recorded: RecordedEvent
    keys: EventKeys
    kept_at: float

    def alive(self) -> bool:
        """None of its keys destroyed (ask after ``KEYRING.load_data(self.keys.tokens, …)``)."""
        return not self.keys.destroyed()


class OpenedEvents:
    """The opened payloads of the stored events used last, by case and stream version."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, ttl_s: float = DEFAULT_TTL_S) -> None:
        if capacity < 0:
            raise ValueError("capacity must not be negative")
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._entries: OrderedDict[Where, Opened] = OrderedDict()
        self._per_case: dict[str, int] = {}  # entries per case id

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def keeps(self) -> bool:
        """Whether anything is kept at all (a capacity of 0 keeps nothing: a rebuild's)."""
        return self._capacity > 0

    def keep(
        self, where: Where, event_id: UUID, recorded: RecordedEvent, keys: EventKeys
    ) -> Opened:
        """Keep ``recorded``, the payload of event ``event_id`` opened from data sealed with
        ``keys`` (found once for every question about them); ``drop`` it again unless it is
        ``alive`` (then it holds ``ERASED``)."""
        opened = Opened(where, event_id, recorded, keys, time.monotonic())
        if self._capacity > 0:
            self._remove(where)
            self._entries[where] = opened
            self._per_case[where[0]] = self._per_case.get(where[0], 0) + 1
            while len(self._entries) > self._capacity:
                self._remove(next(iter(self._entries)))
        return opened

    def get(self, where: Where, event_id: UUID) -> Opened | None:
        """The kept event stored at ``where``, unless another event is stored there or it
        was kept longer than ``ttl_s`` ago (then it is dropped)."""
        opened = self._entries.get(where)
        if opened is None:
            return None
        if opened.event_id != event_id or time.monotonic() - opened.kept_at > self._ttl_s:
            self._remove(where)
            return None
        self._entries.move_to_end(where)
        return opened

    def count(self, case_id: str) -> int:
        """How many events of the case are kept."""
        return self._per_case.get(case_id, 0)

    def drop(self, opened: Opened) -> None:
        if self._entries.get(opened.where) is opened:
            self._remove(opened.where)

    def drop_at(self, where: Where) -> None:
        """Keep nothing of the event stored at ``where``."""
        self._remove(where)

    def forget_key(self, key_id: str) -> None:
        """The key was destroyed (an erasure): no payload opened with it stays in memory."""
        for where in [w for w, o in self._entries.items() if key_id in o.keys.ids]:
            self._remove(where)

    def _remove(self, where: Where) -> None:
        if self._entries.pop(where, None) is None:
            return
        left = self._per_case[where[0]] - 1
        if left:
            self._per_case[where[0]] = left
        else:
            del self._per_case[where[0]]
