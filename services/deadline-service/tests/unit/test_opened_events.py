"""The opened case events the projection keeps across transactions (issue 8): bounded, by case
and stream version, for the event stored there only, and never past its key's destruction."""

from __future__ import annotations

import uuid

import pytest

from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.domain.facts import RecordedEvent
from naervaer.privacy import KEYRING


def _event() -> tuple[uuid.UUID, RecordedEvent]:
    event_id = uuid.uuid4()
    return event_id, RecordedEvent(str(event_id), object())


def _token(key_id: str) -> str:
    return f"pd1.{key_id}.{'A' * 40}"


def test_the_event_stored_there_is_found() -> None:
    opened = OpenedEvents()
    event_id, recorded = _event()
    opened.keep(("c1", 1), event_id, recorded, EventKeys.in_data({"note": "plain"}))
    found = opened.get(("c1", 1), event_id)
    assert found is not None
    assert found.recorded is recorded
    assert opened.get(("c1", 2), event_id) is None


def test_another_event_at_the_same_place_is_not_taken_for_it() -> None:
    opened = OpenedEvents()
    event_id, recorded = _event()
    opened.keep(("c1", 1), event_id, recorded, EventKeys.in_data({}))
    assert opened.get(("c1", 1), uuid.uuid4()) is None
    assert len(opened) == 0  # and it is dropped
    assert opened.count("c1") == 0


def test_the_events_used_last_are_kept() -> None:
    opened = OpenedEvents(capacity=2)
    first, second, third = _event(), _event(), _event()
    opened.keep(("c1", 1), *first, EventKeys.in_data({}))
    opened.keep(("c1", 2), *second, EventKeys.in_data({}))
    assert opened.get(("c1", 1), first[0]) is not None  # used: the second is now the oldest
    opened.keep(("c2", 1), *third, EventKeys.in_data({}))
    assert opened.get(("c1", 2), second[0]) is None
    assert opened.get(("c1", 1), first[0]) is not None
    assert (opened.count("c1"), opened.count("c2")) == (1, 1)


def test_nothing_is_kept_longer_than_the_key_ring_trusts_a_key() -> None:
    opened = OpenedEvents(ttl_s=-1.0)  # everything is already too old
    event_id, recorded = _event()
    opened.keep(("c1", 1), event_id, recorded, EventKeys.in_data({}))
    assert opened.get(("c1", 1), event_id) is None


def test_no_capacity_keeps_nothing() -> None:
    opened = OpenedEvents(capacity=0)
    event_id, recorded = _event()
    assert opened.keep(("c1", 1), event_id, recorded, EventKeys.in_data({})).recorded is recorded
    assert len(opened) == 0
    with pytest.raises(ValueError, match="capacity"):
        OpenedEvents(capacity=-1)


def test_an_entry_is_alive_while_its_keys_are() -> None:
    live, other = uuid.uuid4().hex, uuid.uuid4().hex
    KEYRING.remember(live, b"k" * 32)
    KEYRING.remember(other, b"o" * 32)
    opened = OpenedEvents()
    data = {"reason": _token(live), "nested": [{"by": _token(live)}], "plain": "x"}
    kept = opened.keep(("c1", 1), *_event(), EventKeys.in_data(data))
    assert kept.keys.ids == {live}
    assert len(kept.keys.tokens) == 2
    assert kept.alive()
    opened.keep(("c2", 1), *_event(), EventKeys.in_data({"reason": _token(other)}))
    KEYRING.forget(live)
    assert not kept.alive()
    opened.forget_key(live)  # an erasure: the payloads opened with the key go
    assert (opened.count("c1"), opened.count("c2")) == (0, 1)
