"""The cases' facts the projection keeps folded across transactions (issue 8): used only for
stored events that begin with those they were folded from, a fresh copy each time, bounded,
and never past a key's destruction."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from deadline_service.adapters.folded import FoldedCases, merged
from deadline_service.adapters.keys import EventKeys
from deadline_service.domain.facts import CaseFacts, Fact
from naervaer.privacy import KEYRING

NO_KEYS = EventKeys.in_data({})


def _token(key_id: str) -> str:
    return f"pd1.{key_id}.{'A' * 40}"


def _stored(count: int) -> list[int]:
    return list(range(1, count + 1))


def _facts(case_id: str = "c1") -> CaseFacts:
    facts = CaseFacts(case_id, opened_on=date(2026, 1, 5))
    facts.assessments.append(Fact(date(2026, 2, 1), "e-1", "met"))
    return facts


def test_the_facts_are_found_for_the_events_they_were_folded_from_and_more() -> None:
    folded = FoldedCases()
    stored = _stored(3)
    folded.keep("c1", stored, _facts(), NO_KEYS)
    entry = folded.get("c1")
    assert entry is not None
    assert entry.count == 3
    assert entry.holds(stored)
    assert entry.holds([*stored, 5])  # events stored since: folded on
    assert entry.opened() == _facts()


def test_other_stored_events_are_not_taken_for_theirs() -> None:
    folded = FoldedCases()
    stored = _stored(3)
    folded.keep("c1", stored, _facts(), NO_KEYS)
    entry = folded.get("c1")
    assert entry is not None
    assert not entry.holds(stored[:2])  # fewer (something deleted)
    assert not entry.holds([1, 3])  # one deleted behind its back
    assert not entry.holds([1, 2, 3, 4][1:])
    folded.keep("c2", [1, 2, 4], _facts("c2"), NO_KEYS)
    gapped = folded.get("c2")
    assert gapped is not None
    assert not gapped.holds([1, 2, 3, 4])  # a lower version arrived late: folded before 4
    assert gapped.holds([1, 2, 4, 5])


def test_each_use_is_a_fresh_copy() -> None:
    folded = FoldedCases()
    folded.keep("c1", _stored(1), _facts(), NO_KEYS)
    entry = folded.get("c1")
    assert entry is not None
    first = entry.opened()
    first.assessments.clear()
    first.next_seq()
    assert entry.opened() == _facts()


def test_the_cases_folded_last_are_kept() -> None:
    folded = FoldedCases(capacity=2)
    for case_id in ("c1", "c2"):
        folded.keep(case_id, _stored(1), _facts(case_id), NO_KEYS)
    assert folded.get("c1") is not None  # used: c2 is now the oldest
    folded.keep("c3", _stored(1), _facts("c3"), NO_KEYS)
    assert ("c1" in folded, "c2" in folded, "c3" in folded) == (True, False, True)
    folded.keep("c1", _stored(2), _facts(), NO_KEYS)  # kept again: replaced
    assert len(folded) == 2
    entry = folded.get("c1")
    assert entry is not None
    assert entry.count == 2


def test_nothing_is_kept_longer_than_the_key_ring_trusts_a_key() -> None:
    folded = FoldedCases(ttl_s=-1.0)  # everything is already too old
    folded.keep("c1", _stored(1), _facts(), NO_KEYS)
    assert folded.get("c1") is None
    assert "c1" not in folded


def test_no_capacity_keeps_nothing() -> None:
    folded = FoldedCases(capacity=0)
    assert not folded.keeps
    folded.keep("c1", _stored(1), _facts(), NO_KEYS)
    assert len(folded) == 0
    with pytest.raises(ValueError, match="capacity"):
        FoldedCases(capacity=-1)


def test_an_entry_is_alive_while_its_keys_are() -> None:
    live, other = uuid.uuid4().hex, uuid.uuid4().hex
    KEYRING.remember(live, b"k" * 32)
    KEYRING.remember(other, b"o" * 32)
    keys = merged(
        [
            EventKeys.in_data({"reason": _token(live), "by": _token(live)}),
            EventKeys.in_data({"plain": "x"}),
            EventKeys.in_data({"to": _token(other)}),
        ]
    )
    assert keys.ids == {live, other}
    assert len(keys.tokens) == 2  # one token naming each key
    folded = FoldedCases()
    folded.keep("c1", _stored(3), _facts(), keys)
    folded.keep("c2", _stored(1), _facts("c2"), EventKeys.in_data({"to": _token(other)}))
    entry = folded.get("c1")
    assert entry is not None
    assert entry.alive()
    KEYRING.forget(live)
    assert not entry.alive()
    folded.forget_key(live)  # an erasure: the facts folded with the key go
    assert ("c1" in folded, "c2" in folded) == (False, True)
