"""The timeline digest (issue 8): a recomputation writes only the obligation rows and timers
that differ from what the case's digest says is there, and everything when it cannot tell."""

from __future__ import annotations

from datetime import date
from typing import Any

from deadline_service.adapters.digest import (
    TimelineChange,
    TimerKey,
    compare,
    without_obligations,
)

DUE = date(2024, 3, 1)
KINDS = ("employer_period_end", "follow_up_plan", "max_date")


def _rows(**states: str) -> list[dict[str, Any]]:
    return [
        {"case_id": "c1", "kind": kind, "due_date": DUE, "state": states.get(kind, "open")}
        for kind in KINDS
    ]


WANTED: dict[TimerKey, date] = {
    ("follow_up_plan", "approaching", DUE): date(2024, 2, 23),
    ("follow_up_plan", "due", DUE): DUE,
}


def _first() -> TimelineChange:
    return compare(None, _rows(), WANTED)


def test_without_a_digest_everything_is_written() -> None:
    change = _first()
    assert change.obligations == _rows()
    assert change.all_obligations
    assert change.timers == WANTED
    assert change.new_timers == WANTED
    assert change.stale_timers


def test_the_same_timeline_writes_nothing() -> None:
    change = compare(_first().digest, _rows(), dict(WANTED))
    assert change.obligations is None
    assert change.timers is None
    assert change.digest == _first().digest


def test_only_the_changed_row_is_written() -> None:
    change = compare(_first().digest, _rows(follow_up_plan="fulfilled"), WANTED)
    assert change.obligations == [_rows(follow_up_plan="fulfilled")[1]]
    assert not change.all_obligations


def test_other_kinds_rewrite_every_row() -> None:
    fewer = _rows()[:2]
    change = compare(_first().digest, fewer, WANTED)
    assert change.obligations == fewer
    assert change.all_obligations
    none = compare(change.digest, [], WANTED)
    assert none.obligations == []
    assert none.all_obligations


def test_a_reassignment_rewrites_every_row_next_time() -> None:
    change = compare(without_obligations(_first().digest), _rows(), WANTED)
    assert change.obligations == _rows()
    assert change.all_obligations
    assert change.timers is None  # the timers part stays


def test_a_new_timer_is_inserted_and_nothing_deleted() -> None:
    more = WANTED | {("max_date", "due", DUE): DUE}
    change = compare(_first().digest, _rows(), more)
    assert change.timers == more
    assert change.new_timers == {("max_date", "due", DUE): DUE}
    assert not change.stale_timers


def test_a_timer_no_longer_wanted_deletes_the_stale_ones() -> None:
    fewer = dict(list(WANTED.items())[:1])
    change = compare(_first().digest, _rows(), fewer)
    assert change.timers == fewer
    assert change.new_timers == {}
    assert change.stale_timers


def test_another_fire_date_counts_as_another_timer() -> None:
    moved = WANTED | {("follow_up_plan", "due", DUE): date(2024, 3, 2)}
    change = compare(_first().digest, _rows(), moved)
    assert change.new_timers == {("follow_up_plan", "due", DUE): date(2024, 3, 2)}
    assert change.stale_timers


def test_a_digest_of_an_earlier_form_writes_everything() -> None:
    change = compare("a132869f99c741072050cc34:cb078f9fabf6f0ef1e82cca0", _rows(), WANTED)
    assert change.obligations == _rows()
    assert change.all_obligations
    assert change.new_timers == WANTED
    assert change.stale_timers


def test_every_value_of_a_row_counts() -> None:
    for value in (None, "", "None", date(2024, 3, 2), True):
        changed = _rows()
        changed[0] = changed[0] | {"due_date": value}
        assert compare(_first().digest, changed, WANTED).obligations == [changed[0]], value


def test_the_digest_format_is_the_one_stored() -> None:
    """Case rows keep their digest (``timeline_digest``): a change of its form would make
    every case rewrite its whole timeline once, so the form is pinned here."""
    due = date(2024, 3, 1)
    rows: list[dict[str, Any]] = [
        {"case_id": "c1", "kind": "max_date", "tenant": "t", "due_date": due, "state": "open",
         "milestone": True, "responsible": "nav", "legal_basis": "ftrl § 8-12",
         "fulfilled_by": None, "rule_version": "2025"},
        {"case_id": "c1", "kind": "follow_up_plan", "tenant": "t", "due_date": None,
         "state": "fulfilled", "milestone": False, "responsible": "employer",
         "legal_basis": "aml § 4-6 (3)", "fulfilled_by": "ev-3", "rule_version": "2025"},
    ]  # fmt: skip
    wanted: dict[TimerKey, date] = {
        ("max_date", "approaching", due): date(2024, 2, 23),
        ("max_date", "due", due): due,
    }
    expected = "WKEoGCR0V7w.GcfW_ai0J-E.7fQBGwEeh10:SkAFC-VOKi4.c27lHsBd2So"
    assert compare(None, rows, wanted).digest == expected


def test_an_unchanged_timeline_reports_what_the_full_comparison_would() -> None:
    """The shortcut for a digest equal to the case's gives the same answer as comparing
    item by item (no rows, no timers, nothing stale)."""
    for wanted in (WANTED, {}):
        digest = compare(None, _rows(), wanted).digest
        again = compare(digest, _rows(), dict(wanted))
        assert again == TimelineChange(digest, None, False, None, {}, False)
        assert again.digest == digest
