"""Follow-up events: conversation, plan (oppfølgingsplan) and dialogue meetings (dialogmøter)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, model_validator

from naervaer.contracts._base import CASE_ID, Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry

MeetingNumber = Literal[1, 2, 3]
PlanRecipient = Literal["doctor", "nav"]
MeetingExceptionReason = Literal[
    "medical_reasons",
    "in_institution",
    "return_expected_within_28_weeks",
    "documented_measures",
]
Party = Literal[
    "employee",
    "manager",
    "hr",
    "union_representative",
    "safety_representative",
    "bht",
    "doctor",
    "nav",
]


class FollowUpConversationHeld(Contract):
    """Manager and employee held the follow-up conversation (oppfølgingssamtale).

    The invitation carried the three core questions; the answers are work-related, never health.
    """

    case_id: str = CASE_ID
    held_on: date
    working_day: PersonalStr = Field(min_length=1, description="How is the working day?")
    what_can_change: PersonalStr = Field(
        min_length=1, description="What can and should be changed?"
    )
    agreed: PersonalStr = Field(min_length=1, description="What do we agree on?")


class FollowUpPlan(Contract):
    """The follow-up plan's content, field for field as NAV's API for HR systems takes it
    (lps-oppfolgingsplan-mottak ``FollowUpPlanDTO``), so it can be submitted without re-typing."""

    typical_workday: PersonalStr = Field(min_length=1)
    tasks_that_can_still_be_done: PersonalStr = Field(min_length=1)
    tasks_that_can_not_be_done: PersonalStr = Field(min_length=1)
    previous_facilitation: PersonalStr = Field(
        min_length=1, description="Adjustments already tried."
    )
    planned_facilitation: PersonalStr = Field(
        min_length=1, description="Adjustments the employer will make."
    )
    other_facilitation_options: PersonalStr | None = None
    follow_up: PersonalStr = Field(min_length=1, description="The plan for further follow-up.")
    evaluation_date: date
    send_plan_to_nav: bool
    needs_help_from_nav: bool | None = None
    needs_help_from_nav_description: PersonalStr | None = None
    send_plan_to_general_practitioner: bool
    message_to_general_practitioner: PersonalStr | None = None
    additional_information: PersonalStr | None = None
    contact_person_full_name: PersonalStr = Field(min_length=1)
    contact_person_phone_number: PersonalStr = Field(min_length=1)
    employee_has_contributed_to_plan: bool
    employee_has_not_contributed_to_plan_description: PersonalStr | None = None

    @model_validator(mode="after")
    def _nav_rules(self) -> FollowUpPlan:
        if self.needs_help_from_nav:
            if not self.needs_help_from_nav_description:
                raise ValueError("needs_help_from_nav_description is required when help is needed")
            if not self.send_plan_to_nav:
                raise ValueError("send_plan_to_nav must be true when help from NAV is needed")
        if not self.employee_has_contributed_to_plan and not (
            self.employee_has_not_contributed_to_plan_description
        ):
            raise ValueError(
                "employee_has_not_contributed_to_plan_description is required when the employee "
                "did not contribute"
            )
        return self


class FollowUpPlanCreated(Contract):
    """The first version of the follow-up plan was made (aml § 4-6 (3))."""

    case_id: str = CASE_ID
    plan_version: Literal[1] = 1
    made_on: date
    plan: FollowUpPlan


class FollowUpPlanRevised(Contract):
    """A new version of the follow-up plan; earlier versions are kept."""

    case_id: str = CASE_ID
    plan_version: int = Field(ge=2)
    made_on: date
    plan: FollowUpPlan


class FollowUpPlanShared(Contract):
    """A plan version was shared with the doctor (sykmelder) or with NAV."""

    case_id: str = CASE_ID
    plan_version: int = Field(ge=1)
    recipient: PlanRecipient
    shared_on: date


class Participant(Contract):
    party: Party
    party_id: PersonalStr | None = Field(
        default=None, description="Who, where the tenant knows them."
    )


class DoctorConsentRecorded(Contract):
    """The employee gave (or took back) consent to invite the doctor (sykmelder) to meetings.

    Only the employee can consent; while it stands, the doctor may be a meeting participant.
    """

    case_id: str = CASE_ID
    consented: bool
    recorded_on: date


class DialogueMeetingRequested(Contract):
    """A party asked for a dialogue meeting (e.g. meeting 1 on graded leave, or meeting 3)."""

    case_id: str = CASE_ID
    meeting_number: MeetingNumber
    requested_by: Party
    requested_on: date


class DialogueMeetingScheduled(Contract):
    """A dialogue meeting (dialogmøte) was called."""

    case_id: str = CASE_ID
    meeting_id: str
    meeting_number: MeetingNumber
    starts_at: datetime
    participants: list[Participant] = Field(min_length=2)
    employee_consented_to_doctor: bool = Field(
        description="The doctor may be invited to meeting 1 only with the employee's consent."
    )


class DialogueMeetingHeld(Contract):
    """A dialogue meeting took place; its minutes go to the document service for signing."""

    case_id: str = CASE_ID
    meeting_id: str
    meeting_number: MeetingNumber
    held_on: date
    participants: list[Participant] = Field(min_length=2)
    minutes: PersonalStr = Field(
        min_length=1, description="What was discussed and agreed (no health data)."
    )


class DialogueMeetingCancelled(Contract):
    case_id: str = CASE_ID
    meeting_id: str
    meeting_number: MeetingNumber
    reason: PersonalStr = Field(min_length=1)


class MeetingExceptionRecorded(Contract):
    """NAV found dialogue meeting 2 unnecessary for a recorded reason (unntak)."""

    case_id: str = CASE_ID
    meeting_number: Literal[2] = 2
    reason: MeetingExceptionReason
    recorded_on: date


def register_followup_events(registry: EventRegistry) -> None:
    for name, model in (
        ("case.follow_up_conversation_held", FollowUpConversationHeld),
        ("case.follow_up_plan_created", FollowUpPlanCreated),
        ("case.follow_up_plan_revised", FollowUpPlanRevised),
        ("case.follow_up_plan_shared", FollowUpPlanShared),
        ("case.doctor_consent_recorded", DoctorConsentRecorded),
        ("case.dialogue_meeting_requested", DialogueMeetingRequested),
        ("case.dialogue_meeting_scheduled", DialogueMeetingScheduled),
        ("case.dialogue_meeting_held", DialogueMeetingHeld),
        ("case.dialogue_meeting_cancelled", DialogueMeetingCancelled),
        ("case.meeting_exception_recorded", MeetingExceptionRecorded),
    ):
        registry.register(name, model)
