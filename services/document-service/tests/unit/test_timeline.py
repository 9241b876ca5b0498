"""The case at a glance: periods with grades and milestones met, late, missed or pending."""

from __future__ import annotations

from datetime import date
from typing import Any

from document_service.domain.timeline import glance

OPENED = (
    "case.opened",
    {"employee_id": "e", "manager_id": "m", "org_unit": "u", "first_absence_day": "2026-01-05"},
)


def note(note_id: str, start: str, end: str, grade: int = 100) -> tuple[str, dict[str, Any]]:
    kind = "ordinary" if grade == 100 else "graded"
    return (
        "case.sick_note_received",
        {
            "sick_note_id": note_id,
            "period_start": start,
            "period_end": end,
            "grade": grade,
            "kind": kind,
        },
    )


def statuses(
    events: list[tuple[str, dict[str, Any]]], as_of: str
) -> dict[str, tuple[str, date | None]]:
    seen = glance("c-1", events, date.fromisoformat(as_of))
    return {m.label: (m.status, m.done_on) for m in seen.milestones}


def test_due_dates_follow_the_rules_worked_example() -> None:
    events = [
        ("case.opened", {**OPENED[1], "first_absence_day": "2018-01-01"}),
        note("n", "2018-01-01", "2018-12-31"),
    ]
    seen = glance("c-1", events, date(2018, 1, 2))
    assert {m.obligation: m.due.isoformat() for m in seen.milestones} == {
        "employer_period_end": "2018-01-16",
        "follow_up_plan": "2018-01-28",
        "dialogue_meeting_1": "2018-02-18",
        "activity_requirement": "2018-02-25",
        "dialogue_meeting_2": "2018-07-01",
        "employment_review": "2018-12-31",
    }


def test_met_late_missed_and_pending() -> None:
    events = [
        OPENED,
        note("n1", "2026-01-05", "2026-04-30"),
        ("case.follow_up_plan_created", {"made_on": "2026-02-10", "plan_version": 1}),
        ("case.dialogue_meeting_held", {"meeting_number": 1, "held_on": "2026-02-20"}),
    ]
    found = statuses(events, "2026-03-10")
    assert found["S+15"] == ("reached", None)
    assert found["S+27"] == ("late", date(2026, 2, 10))
    assert found["S+48"] == ("met", date(2026, 2, 20))
    assert found["S+55"] == ("missed", None)
    assert found["S+181"] == ("pending", None)


def test_graded_leave_meets_the_activity_requirement_and_spares_meeting_1() -> None:
    events = [OPENED, note("n1", "2026-01-05", "2026-03-31", 60)]
    found = statuses(events, "2026-03-10")
    assert found["S+55"] == ("met", date(2026, 3, 1))
    assert found["S+48"] == ("not_required", None)


def test_a_closed_case_needs_no_later_milestones_and_waivers_count() -> None:
    events = [
        OPENED,
        note("n1", "2026-01-05", "2026-01-20"),
        (
            "case.obligation_waived",
            {"obligation": "follow_up_plan", "reason": "x", "waived_on": "2026-01-20"},
        ),
        ("case.closed", {"closed_on": "2026-01-21", "reason": "returned_to_work"}),
    ]
    found = statuses(events, "2026-06-01")
    assert found["S+27"] == ("waived", None)
    assert found["S+48"] == ("not_required", None)
    assert found["S+364"] == ("not_required", None)


def test_periods_follow_extensions_corrections_regrading_and_cancellations() -> None:
    events = [
        OPENED,
        note("n1", "2026-01-05", "2026-01-31"),
        ("case.sick_note_extended", {"sick_note_id": "n1", "period_end": "2026-02-28"}),
        (
            "case.grading_changed",
            {"sick_note_id": "n1", "effective_from": "2026-02-10", "grade": 50},
        ),
        note("n2", "2026-03-01", "2026-03-10"),
        ("case.sick_note_cancelled", {"sick_note_id": "n2", "reason": "duplicate"}),
        (
            "case.self_certification_registered",
            {"period_start": "2026-03-02", "period_end": "2026-03-03", "days": 2},
        ),
    ]
    seen = glance("c-1", events, date(2026, 3, 10))
    assert [(p.start.isoformat(), p.end.isoformat(), p.grade, p.kind) for p in seen.periods] == [
        ("2026-01-05", "2026-02-09", 100, "ordinary"),
        ("2026-02-10", "2026-02-28", 50, "ordinary"),
        ("2026-03-02", "2026-03-03", 100, "self_certification"),
    ]


def test_a_malformed_event_is_left_out_of_the_picture() -> None:
    events = [
        OPENED,
        ("case.sick_note_received", {"sick_note_id": "n1"}),
        note("n2", "2026-01-05", "2026-01-09"),
    ]
    assert [p.end.isoformat() for p in glance("c-1", events, date(2026, 1, 10)).periods] == [
        "2026-01-09"
    ]
