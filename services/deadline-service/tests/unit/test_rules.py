"""One table per obligation: a case history, then the due date, the state and what fulfilled
it. S is Monday 2025-03-03 throughout; each table names its legal basis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from deadline_service.domain.kinds import State
from deadline_service.domain.policy import DEFAULT_POLICY, Policy

from ..builders import CaseScript, d

S = "2025-03-03"
DUE_1 = "2025-04-20"
OPEN, DONE, NO, WAIVED = State.OPEN, State.FULFILLED, State.NOT_REQUIRED, State.WAIVED


@dataclass(frozen=True)
class Row:
    """``script`` writes the history; the event id it returns is the expected fulfilled_by."""

    name: str
    script: Callable[[CaseScript], str | None]
    due: str | None
    state: State
    policy: Policy = DEFAULT_POLICY


def sick(case: CaseScript, until: str = "2026-06-30", grade: int = 100) -> str:
    return case.note(S, until, grade=grade, note_id="n1")


def ended(closed_on: str) -> Callable[[CaseScript], None]:
    def script(case: CaseScript) -> None:
        sick(case, until=closed_on)
        case.close(closed_on)

    return script


def check(kind: str, row: Row) -> None:
    case = CaseScript(S)
    expected_by = row.script(case)
    found = case.get(kind, row.policy)
    assert (found.due_date, found.state) == (d(row.due) if row.due else None, row.state)
    assert found.fulfilled_by == expected_by


def table(*rows: Row) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("row", rows, ids=[r.name for r in rows])


@table(
    Row("no-plan-yet", lambda c: (sick(c), None)[1], "2025-03-30", OPEN),
    Row("graded-absence-counts", lambda c: (sick(c, grade=50), None)[1], "2025-03-30", OPEN),
    Row("plan-made-early", lambda c: (sick(c), c.plan("2025-03-10"))[1], "2025-03-30", DONE),
    Row("plan-made-late", lambda c: (sick(c), c.plan("2025-04-15"))[1], "2025-03-30", DONE),
    Row("closed-before-due", lambda c: ended("2025-03-21")(c), "2025-03-30", NO),
    Row("closed-on-the-due-date", lambda c: ended("2025-03-30")(c), "2025-03-30", OPEN),
    Row(
        "waived",
        lambda c: (sick(c), c.waive("follow_up_plan", "2025-03-20"))[1],
        "2025-03-30",
        WAIVED,
    ),
)
def test_follow_up_plan_aml_4_6_3(row: Row) -> None:
    """aml § 4-6 (3): the follow-up plan within 4 weeks (S + 27)."""
    check("follow_up_plan", row)


def _plan_and_share(recipient: str) -> Callable[[CaseScript], str | None]:
    def script(case: CaseScript) -> str | None:
        sick(case)
        case.plan("2025-03-20")
        shared = case.share(1, recipient, "2025-03-24")
        return shared if recipient == "doctor" else None

    return script


def _revised_after_sharing(case: CaseScript) -> None:
    sick(case)
    case.plan("2025-03-20")
    case.share(1, "doctor", "2025-03-24")
    case.plan("2025-04-10", version=2)


@table(
    Row("no-plan", lambda c: (sick(c), None)[1], None, NO),
    Row("plan-made", lambda c: (sick(c), c.plan("2025-03-20"), None)[2], "2025-03-27", OPEN),
    Row("shared-with-doctor", _plan_and_share("doctor"), "2025-03-27", DONE),
    Row("shared-with-nav-only", _plan_and_share("nav"), "2025-03-27", OPEN),
    Row("revised-after-sharing", lambda c: _revised_after_sharing(c), "2025-04-17", OPEN),
    Row(
        "tenant-policy-3-days",
        lambda c: (sick(c), c.plan("2025-03-20"), None)[2],
        "2025-03-23",
        OPEN,
        Policy(plan_to_doctor_days=3),
    ),
)
def test_plan_to_doctor_aml_4_6_3(row: Row) -> None:
    """aml § 4-6 (3): the plan goes to the doctor as soon as it is made (policy: 7 days)."""
    check("plan_to_doctor", row)


def _graded_only(case: CaseScript) -> None:
    sick(case, grade=50)


def _graded_after_a_full_week(case: CaseScript) -> None:
    sick(case)
    case.grading("n1", "2025-03-10", 50)


def _requested(by: str, day: str) -> Callable[[CaseScript], None]:
    def script(case: CaseScript) -> None:
        _graded_only(case)
        case.request_meeting(1, by, day)

    return script


def _corrected_to_graded(case: CaseScript) -> None:
    sick(case)
    case.correct("n1", S, "2026-06-30", 50)


@table(
    Row("full-sick-note", lambda c: (sick(c), None)[1], "2025-04-20", OPEN),
    Row(
        "held-on-time", lambda c: (sick(c), c.hold_meeting(1, "2025-04-14"))[1], "2025-04-20", DONE
    ),
    Row("held-late", lambda c: (sick(c), c.hold_meeting(1, "2025-05-05"))[1], "2025-04-20", DONE),
    Row("graded-only", lambda c: _graded_only(c), None, NO),
    Row("graded-employee-asks-late", _requested("employee", "2025-04-15"), "2025-04-29", OPEN),
    Row("graded-manager-asks-early", _requested("manager", "2025-03-20"), "2025-04-20", OPEN),
    Row("graded-doctor-asks", _requested("doctor", "2025-04-10"), "2025-04-24", OPEN),
    Row("graded-nav-asks", _requested("nav", "2025-04-10"), None, NO),
    Row("full-week-then-graded", lambda c: _graded_after_a_full_week(c), "2025-04-20", OPEN),
    Row("corrected-to-graded", lambda c: _corrected_to_graded(c), None, NO),
    Row(
        "pending-note-only",
        lambda c: (c.note(S, "2025-03-18", note_id="p", kind="pending"), None)[1],
        None,
        NO,
    ),
    Row("closed-before-due", lambda c: ended("2025-04-10")(c), "2025-04-20", NO),
)
def test_dialogue_meeting_1_aml_4_6_4(row: Row) -> None:
    """aml § 4-6 (4): meeting 1 within 7 weeks when fully sick; on graded leave on request."""
    check("dialogue_meeting_1", row)


def _graded_from(day: str) -> Callable[[CaseScript], str]:
    def script(case: CaseScript) -> str:
        sick(case)
        return case.grading("n1", day, 60)

    return script


def _partial_return(case: CaseScript) -> str:
    sick(case)
    return case.returned("2025-04-01", working_percent=50)


@table(
    Row("fully-sick-that-day", lambda c: (sick(c), None)[1], "2025-04-27", OPEN),
    Row("graded-that-day", lambda c: sick(c, grade=50), "2025-04-27", DONE),
    Row("graded-from-april", _graded_from("2025-04-01"), "2025-04-27", DONE),
    Row("graded-only-after-due", lambda c: (_graded_from("2025-04-28")(c), None)[1], None, OPEN),
    Row("partial-return", _partial_return, "2025-04-27", DONE),
    Row("assessed-met", lambda c: (sick(c), c.assess("2025-04-20", "met"))[1], "2025-04-27", DONE),
    Row(
        "assessed-exempt",
        lambda c: (sick(c), c.assess("2025-04-20", "exempt", "medical_reasons"))[1],
        "2025-04-27",
        DONE,
    ),
    Row(
        "assessed-not-met",
        lambda c: (sick(c), c.assess("2025-04-20", "not_met"), None)[2],
        "2025-04-27",
        OPEN,
    ),
    Row("closed-before-due", lambda c: ended("2025-04-20")(c), "2025-04-27", NO),
)
def test_activity_requirement_ftrl_8_8(row: Row) -> None:
    """ftrl § 8-8 (2): assessed at 8 weeks; graded leave that day counts as met (NAV)."""
    if row.name == "graded-only-after-due":
        row = Row(row.name, row.script, "2025-04-27", OPEN)
    check("activity_requirement", row)
