"""Builders for given-events / when-command / then-events tests of the case aggregate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from pydantic import BaseModel

from case_service.domain.case import Case
from case_service.domain.errors import DomainError
from naervaer.contracts.case import (
    CaseClosed,
    CaseOpened,
    SelfCertificationRegistered,
    SickNoteKind,
    SickNoteReceived,
)
from naervaer.contracts.followup import (
    DialogueMeetingScheduled,
    DoctorConsentRecorded,
    FollowUpPlan,
    FollowUpPlanCreated,
    Participant,
)

CASE = "case-1"
S = date(2026, 1, 5)  # a Monday: the first absence day of every case here
TODAY = date(2026, 3, 2)
EMPLOYEE = "emp-1"


def day(n: int) -> date:
    """S + n (S itself is day 0)."""
    return S + timedelta(days=n)


def opened(first_absence_day: date = S) -> CaseOpened:
    return CaseOpened(
        case_id=CASE,
        employee_id=EMPLOYEE,
        manager_id="mgr-1",
        org_unit="warehouse",
        first_absence_day=first_absence_day,
        began_with="sick_note",
    )


def note(
    sick_note_id: str, start: date, end: date, grade: int = 100, kind: SickNoteKind = "ordinary"
) -> SickNoteReceived:
    return SickNoteReceived(
        case_id=CASE,
        sick_note_id=sick_note_id,
        period_start=start,
        period_end=end,
        grade=grade,
        kind=kind,
    )


def self_certified(start: date, end: date) -> SelfCertificationRegistered:
    return SelfCertificationRegistered(
        case_id=CASE, period_start=start, period_end=end, days=(end - start).days + 1
    )


def closed(on: date) -> CaseClosed:
    return CaseClosed(case_id=CASE, closed_on=on, reason="returned_to_work")


def plan_created() -> FollowUpPlanCreated:
    return FollowUpPlanCreated(case_id=CASE, made_on=day(20), plan=plan())


def consent(given: bool = True) -> DoctorConsentRecorded:
    return DoctorConsentRecorded(case_id=CASE, consented=given, recorded_on=day(10))


def participants(*parties: str) -> list[Participant]:
    return [Participant(party=party) for party in parties]  # type: ignore[arg-type]


def scheduled(meeting_id: str, number: int = 1) -> DialogueMeetingScheduled:
    return DialogueMeetingScheduled(
        case_id=CASE,
        meeting_id=meeting_id,
        meeting_number=number,  # type: ignore[arg-type]
        starts_at=f"{day(40)}T10:00:00+01:00",  # type: ignore[arg-type]
        participants=participants("employee", "manager", "nav"),
        employee_consented_to_doctor=False,
    )


def plan(**changes: object) -> FollowUpPlan:
    fields: dict[str, object] = {
        "typical_workday": "Picking orders, standing all day.",
        "tasks_that_can_still_be_done": "Desk registration work.",
        "tasks_that_can_not_be_done": "Heavy lifting.",
        "previous_facilitation": "None yet.",
        "planned_facilitation": "Desk tasks four hours a day.",
        "follow_up": "Weekly talk.",
        "evaluation_date": day(40),
        "send_plan_to_nav": False,
        "send_plan_to_general_practitioner": True,
        "contact_person_full_name": "Kari Nordmann",
        "contact_person_phone_number": "+47 400 00 000",
        "employee_has_contributed_to_plan": True,
    }
    return FollowUpPlan.model_validate({**fields, **changes})


def given(*events: BaseModel, first_absence_day: date = S) -> Case:
    """A case that has been opened on S, then had ``events`` (nothing pending)."""
    history = [opened(first_absence_day), *events]
    case = Case.replay(CASE, history, len(history))
    case.tenant = "acme"
    return case


@contextmanager
def refused(case: Case, rule: str, status: int = 422) -> Iterator[None]:
    """The command in the block is refused for ``rule`` and records nothing."""
    with pytest.raises(DomainError) as error:
        yield
    assert (error.value.rule, error.value.status) == (rule, status), error.value.detail
    assert case.pending == []
