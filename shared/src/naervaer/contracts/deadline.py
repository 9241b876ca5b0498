"""Deadline events (fristvarsler), published by the deadline service on the deadline-events topic.

Each open obligation of a case's timeline yields at most one event per stage: approaching (the
reminder lead time before the due date), due (on the due date) and overdue (the day after, if
still not fulfilled). The ``kind`` identifiers are those of the timeline (RULES.md).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from naervaer.contracts._base import CASE_ID, Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry

DEADLINE_EVENTS_TOPIC = "naervaer.deadline-events"

ObligationKindName = Literal[
    "employer_period_end",
    "follow_up_plan",
    "plan_to_doctor",
    "dialogue_meeting_1",
    "activity_requirement",
    "meeting_need_query",
    "revised_plan_to_nav",
    "dialogue_meeting_2",
    "dialogue_meeting_3",
    "week_39_notice",
    "aap_application",
    "max_date",
    "employment_review",
]
ResponsibleParty = Literal["employer", "employee", "nav"]


class DeadlineNotice(Contract):
    """What every deadline event says about the obligation and the case it belongs to."""

    case_id: str = CASE_ID
    kind: ObligationKindName = Field(description="The obligation, as in the case timeline.")
    due_date: date
    responsible: ResponsibleParty = Field(description="Who must act.")
    legal_basis: str = Field(description="E.g. aml § 4-6 (3).")
    manager_id: PersonalStr = Field(description="The case's nearest manager (nærmeste leder) now.")
    employee_id: PersonalStr
    org_unit: str


class DeadlineApproaching(DeadlineNotice):
    """An obligation is due within the tenant's reminder lead time (default 7 days)."""

    stage: Literal["approaching"] = "approaching"


class DeadlineDue(DeadlineNotice):
    """An obligation is due today."""

    stage: Literal["due"] = "due"


class DeadlineOverdue(DeadlineNotice):
    """An obligation was due yesterday and is still not fulfilled (a missed duty)."""

    stage: Literal["overdue"] = "overdue"


DEADLINE_EVENTS: dict[str, type[DeadlineNotice]] = {
    "deadline.approaching": DeadlineApproaching,
    "deadline.due": DeadlineDue,
    "deadline.overdue": DeadlineOverdue,
}


def register_deadline_events(registry: EventRegistry) -> None:
    for name, model in DEADLINE_EVENTS.items():
        registry.register(name, model)
