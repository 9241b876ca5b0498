"""A sick-leave case told as case events (the envelopes the case service publishes)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from naervaer.envelope import Envelope

PLAN: dict[str, Any] = {
    "typical_workday": "Picking orders on the warehouse floor, 7.5 hours.",
    "tasks_that_can_still_be_done": "Inventory counts, training new staff.",
    "tasks_that_can_not_be_done": "Lifting above 10 kg.",
    "previous_facilitation": "Shorter shifts for two weeks.",
    "planned_facilitation": "Desk tasks in the morning, floor tasks after lunch.",
    "follow_up": "Weekly talk with the manager.",
    "evaluation_date": "2026-03-01",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "message_to_general_practitioner": "Plan attached.",
    "contact_person_full_name": "Mona Manager",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}


@dataclass
class CaseStory:
    """Events of one case, numbered like the case stream (version 1, 2, …)."""

    tenant: str = "acme"
    case_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    employee_id: str = "emp-1"
    manager_id: str = "mgr-1"
    version: int = 0

    def event(
        self, event_type: str, recorded: str = "2026-01-05T08:00:00", **data: Any
    ) -> Envelope:
        self.version += 1
        return Envelope(
            id=uuid.uuid4(),
            source="/case-service",
            type=event_type,
            subject=self.case_id,
            time=datetime.fromisoformat(recorded).replace(tzinfo=UTC),
            dataschema=f"urn:naervaer:schema:{event_type}:v1",
            data={"case_id": self.case_id, **data},
            tenant=self.tenant,
            streamid=self.case_id,
            streamversion=self.version,
            globalposition=self.version,
        )

    def opened(self) -> Envelope:
        return self.event(
            "case.opened",
            employee_id=self.employee_id,
            manager_id=self.manager_id,
            org_unit="warehouse",
            first_absence_day="2026-01-05",
            began_with="sick_note",
        )

    def sick_note(
        self, start: str = "2026-01-05", end: str = "2026-02-15", grade: int = 100
    ) -> Envelope:
        return self.event(
            "case.sick_note_received",
            sick_note_id=f"sn-{self.version + 1}",
            period_start=start,
            period_end=end,
            grade=grade,
            kind="ordinary" if grade == 100 else "graded",
        )

    def plan(self, version: int = 1, made_on: str = "2026-01-28", **changes: Any) -> Envelope:
        event_type = (
            "case.follow_up_plan_created" if version == 1 else "case.follow_up_plan_revised"
        )
        return self.event(
            event_type,
            f"{made_on}T12:00:00",
            plan_version=version,
            made_on=made_on,
            plan={**PLAN, **changes},
        )

    def meeting_held(self, held_on: str = "2026-02-20", number: int = 1) -> Envelope:
        return self.event(
            "case.dialogue_meeting_held",
            f"{held_on}T15:00:00",
            meeting_id=f"m-{number}",
            meeting_number=number,
            held_on=held_on,
            participants=[
                {"party": "employee", "party_id": self.employee_id},
                {"party": "manager", "party_id": self.manager_id},
            ],
            minutes="Agreed on desk tasks until March; next talk in two weeks.",
        )

    def adjustment(self) -> Envelope:
        return self.event(
            "case.adjustment_recorded",
            adjustment_id="adj-1",
            area="working_time",
            description="Starts at 10:00 instead of 07:00.",
            starts_on="2026-02-01",
            ends_on="2026-03-01",
        )

    def evaluation(self) -> Envelope:
        return self.event(
            "case.adjustment_evaluated",
            adjustment_id="adj-1",
            evaluated_on="2026-03-02",
            outcome="worked",
            notes="Back to full days from March.",
        )

    def expert_assistance(self) -> Envelope:
        return self.event(
            "case.expert_assistance_requested",
            request_id="ea-1",
            amount_nok=15000,
            purpose="Ergonomic assessment of the workstation.",
            internal_measures_tried="Adjusted shifts and tasks.",
            requested_on="2026-02-10",
        )

    def manager_reassigned(self, new_manager: str) -> Envelope:
        previous, self.manager_id = self.manager_id, new_manager
        return self.event(
            "case.manager_reassigned",
            previous_manager_id=previous,
            manager_id=new_manager,
            effective_on="2026-02-25",
        )
