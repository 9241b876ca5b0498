"""Request bodies of the scenario: the plan, sick notes, meetings, the parties' addresses."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from .api import Party
from .driver import OSLO, CaseDriver

HR_EMAIL = "hr@example.no"


def recipients(d: CaseDriver) -> dict[Party, dict[str, Any]]:
    """How the employee (email) and the nearest manager (email and the HR suite) are reached."""
    return {
        d.cast.employee: {
            "display_name": "Kari Nordmann",
            "email": "kari.nordmann@example.no",
            "channels": list(d.expect.people.employee_channels),
        },
        d.cast.manager: {
            "display_name": "Ola Leder",
            "email": "ola.leder@example.no",
            "channels": list(d.expect.people.manager_channels),
        },
    }


def email_of(d: CaseDriver, audience: str) -> str:
    parties = {"employee": d.cast.employee, "manager": d.cast.manager}
    party = parties.get(audience)
    return HR_EMAIL if party is None else str(recipients(d)[party]["email"])


def plan(evaluation: str, **changes: Any) -> dict[str, Any]:
    """A follow-up plan, field for field as NAV's API for HR systems takes it."""
    return {
        "typical_workday": "Picking orders in the warehouse, 7.5 hours, mostly standing.",
        "tasks_that_can_still_be_done": "Order registration and quality control at a desk.",
        "tasks_that_can_not_be_done": "Lifting over 10 kg; driving the forklift.",
        "previous_facilitation": "None yet.",
        "planned_facilitation": "Desk tasks four hours a day.",
        "follow_up": "A talk with the manager every second Monday.",
        "evaluation_date": evaluation,
        "send_plan_to_nav": False,
        "send_plan_to_general_practitioner": True,
        "contact_person_full_name": "Kari Nordmann",
        "contact_person_phone_number": "+47 400 00 000",
        "employee_has_contributed_to_plan": True,
        **changes,
    }


def note(d: CaseDriver, note_id: str, first: int, last: int, grade: int) -> dict[str, Any]:
    return {
        "sick_note_id": note_id,
        "period_start": d.day(first).isoformat(),
        "period_end": d.day(last).isoformat(),
        "grade": grade,
        "kind": "ordinary" if grade == 100 else "graded",
    }


def at_nine(d: CaseDriver, offset: int) -> str:
    return datetime.combine(d.day(offset), time(9, 0), OSLO).isoformat()


def meeting_parties(*parties: str) -> list[dict[str, str]]:
    return [{"party": party} for party in parties]
