"""The timeline digest (issue 8): a recomputation writes only the obligation rows and timers
that differ from what the case's digest says is there, and everything when it cannot tell."""

from __future__ import annotations

import functools
from dataclasses import fields, replace
from datetime import date
from enum import Enum
from typing import Any, NamedTuple

from deadline_service.adapters import digest
from deadline_service.adapters import repository as repo
from deadline_service.adapters.digest import TimelineChange, TimerKey, without_obligations
from deadline_service.adapters.repository import CaseHeader
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.timeline import Obligation

DUE = date(2024, 3, 1)
KINDS = ("employer_period_end", "follow_up_plan", "max_date")
CASE = ("c1", "acme", "mgr-1")  # what the rows hold of the case, the same in each


def _rows(**states: str) -> list[dict[str, Any]]:
    return [
        {"case_id": "c1", "tenant": "acme", "manager_id": "mgr-1", "kind": kind,
         "due_date": DUE, "state": states.get(kind, "open")}
        for kind in KINDS
    ]  # fmt: skip


class Item(NamedTuple):
    """An obligation as far as these rows go."""

    kind: str
    due_date: Any
    state: str


def compare(
    was: str | None,
    rows: list[dict[str, Any]],
    wanted: dict[TimerKey, date],
    case: tuple[str, ...] = CASE,
) -> TimelineChange:
    """``digest.compare`` of rows whose obligation is their kind, due date and state."""
    found = [Item(row["kind"], row["due_date"], row["state"]) for row in rows]
    row_of = dict(zip(found, rows, strict=True)).__getitem__  # the kinds differ
    return digest.compare(was, case, found, wanted, row_of)  # type: ignore[arg-type]


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


HEADER = CaseHeader("c1", "t", "emp-1", "mgr-1", "unit-1", DUE, ())
OBLIGATIONS = [
    Obligation(ObligationKind.MAX_DATE, DUE, State.OPEN, Responsible.NAV, "ftrl § 8-12",
               None, True, "2025"),
    Obligation(ObligationKind.FOLLOW_UP_PLAN, None, State.FULFILLED, Responsible.EMPLOYER,
               "aml § 4-6 (3)", "ev-3", False, "2025"),
]  # fmt: skip


def _rows_of(case: CaseHeader) -> list[dict[str, Any]]:
    return [repo.obligation_row(case, o) for o in OBLIGATIONS]


def _stored(case: CaseHeader, found: list[Obligation], was: str | None = None) -> TimelineChange:
    """``digest.compare`` as the projection calls it, on the rows the repository writes."""
    return digest.compare(
        was, repo.case_values(case), found, {}, functools.partial(repo.obligation_row, case)
    )


def test_the_digest_format_is_the_one_stored() -> None:
    """Case rows keep their digest (``timeline_digest``): a change of its form would make
    every case rewrite its whole timeline once, so the form is pinned here."""
    wanted: dict[TimerKey, date] = {
        ("max_date", "approaching", DUE): date(2024, 2, 23),
        ("max_date", "due", DUE): DUE,
    }
    row_of = functools.partial(repo.obligation_row, HEADER)
    found = digest.compare(None, repo.case_values(HEADER), OBLIGATIONS, wanted, row_of)
    expected = "dDZxWHr-isE.OVuZ-bX_B-c.zVEIwT47FAY:SkAFC-VOKi4.c27lHsBd2So"
    assert found.digest == expected


def test_a_row_holds_its_case_values_and_its_obligation_and_nothing_else() -> None:
    """The digest covers a row by the head (``case_values``) and the obligation's hash: a
    column from anywhere else would be written unseen by it."""
    for obligation, row in zip(OBLIGATIONS, _rows_of(HEADER), strict=True):
        assert set(row) == set(repo.CASE_COLUMNS) | set(Obligation._fields)
        assert tuple(row[c] for c in repo.CASE_COLUMNS) == repo.case_values(HEADER)
        for name, value in zip(Obligation._fields, obligation, strict=True):
            assert row[name] == (value.value if isinstance(value, Enum) else value), name
            if isinstance(value, Enum):
                assert type(row[name]) is str, name  # the value, as the table keeps it


def test_an_obligation_hashes_as_the_values_its_row_holds() -> None:
    """A row's hash is of its obligation, whose kind, state and who is responsible are enums:
    hashed as their values, the ones its row holds (computed afresh, not from the memo)."""
    for obligation, row in zip(OBLIGATIONS, _rows_of(HEADER), strict=True):
        of_row = digest._hash(tuple(row[name] for name in Obligation._fields))
        assert digest._obligation_hash.__wrapped__(obligation) == of_row


def test_equal_obligations_of_two_cases_hash_alike() -> None:
    """What makes the memo of row hashes hold for many cases: only the head is the case's."""
    other = replace(HEADER, case_id="c2", employee_id="emp-2")
    one, two = _stored(HEADER, OBLIGATIONS).digest, _stored(other, OBLIGATIONS).digest
    assert one.split(".")[0] != two.split(".")[0]
    assert one.split(".")[1:] == two.split(".")[1:]


OTHER_VALUES = {
    "case_start": date(2024, 3, 4),
    "sick_pay_iso": ("2024-03-04",),
    "last_sick_day": DUE,
    "key_id": "k2",
    "timeline_digest": "x",
}  # another value for each field of a case that is not text


def test_any_value_of_the_case_in_its_rows_rewrites_every_row() -> None:
    """Another value of any field of the case that its rows hold changes the head, and every
    row is written; of any other field, nothing is (every field of ``CaseHeader``)."""
    before = _stored(HEADER, OBLIGATIONS).digest
    for field in fields(CaseHeader):
        value = getattr(HEADER, field.name)
        other = value + "-2" if isinstance(value, str) else OTHER_VALUES[field.name]
        case = replace(HEADER, **{field.name: other})
        rows = _rows_of(case)
        rows_differ = rows != _rows_of(HEADER)
        change = _stored(case, OBLIGATIONS, was=before)
        assert change.all_obligations is rows_differ, field.name
        assert change.obligations == (rows if rows_differ else None), field.name
        assert rows_differ is (field.name in repo.CASE_COLUMNS), field.name


def test_an_unchanged_timeline_reports_what_the_full_comparison_would() -> None:
    """The shortcut for a digest equal to the case's gives the same answer as comparing
    item by item (no rows, no timers, nothing stale)."""
    for wanted in (WANTED, {}):
        digest = compare(None, _rows(), wanted).digest
        again = compare(digest, _rows(), dict(wanted))
        assert again == TimelineChange(digest, None, False, None, {}, False)
        assert again.digest == digest


def test_only_the_rows_to_write_are_built() -> None:
    """Most events change none of a case's rows: ``row_of`` runs for the changed ones only."""
    built: list[Obligation] = []

    def row_of(obligation: Obligation) -> dict[str, Any]:
        built.append(obligation)
        return repo.obligation_row(HEADER, obligation)

    case = repo.case_values(HEADER)
    first = digest.compare(None, case, OBLIGATIONS, {}, row_of)
    assert built == OBLIGATIONS
    built.clear()
    assert digest.compare(first.digest, case, OBLIGATIONS, {}, row_of).obligations is None
    assert built == []
    moved = [OBLIGATIONS[0]._replace(due_date=date(2024, 3, 8)), OBLIGATIONS[1]]
    assert digest.compare(first.digest, case, moved, {}, row_of).obligations == [
        repo.obligation_row(HEADER, moved[0])
    ]
    assert built == [moved[0]]
