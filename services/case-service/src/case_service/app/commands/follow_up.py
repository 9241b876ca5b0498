"""Commands on follow-up: conversation, plan (oppfølgingsplan), consent, dialogue meetings.

Meeting 2 is NAV's: scheduling, holding or cancelling it is the action ``nav_meeting``.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from case_service.app.commands.base import CaseCommand, Command, id_field, text_field
from case_service.domain.case import Case
from naervaer.contracts.followup import (
    FollowUpPlan,
    MeetingExceptionReason,
    MeetingNumber,
    Participant,
    Party,
    PlanRecipient,
)

NAV_MEETING = 2


def _meeting_action(number: int | None, action: str) -> str:
    return "nav_meeting" if number == NAV_MEETING else action


class HoldFollowUpConversation(CaseCommand):
    """Manager and employee held the follow-up conversation (the three core questions)."""

    action = "hold_follow_up_conversation"
    held_on: date
    working_day: str = text_field("How is the working day?")
    what_can_change: str = text_field("What can and should be changed?")
    agreed: str = text_field("What do we agree on?")

    def execute(self, case: Case, today: date) -> None:
        case.hold_follow_up_conversation(
            held_on=self.held_on,
            working_day=self.working_day,
            what_can_change=self.what_can_change,
            agreed=self.agreed,
            today=today,
        )


class CreateFollowUpPlan(CaseCommand):
    """The first version of the follow-up plan, field for field as NAV takes it."""

    action = "create_follow_up_plan"
    plan: FollowUpPlan

    def execute(self, case: Case, today: date) -> None:
        case.create_follow_up_plan(plan=self.plan, today=today)


class ReviseFollowUpPlan(CaseCommand):
    """A new version of the plan, made from the current one."""

    action = "revise_follow_up_plan"
    based_on: int = Field(ge=1, description="The plan version this revision starts from.")
    plan: FollowUpPlan

    def execute(self, case: Case, today: date) -> None:
        case.revise_follow_up_plan(based_on=self.based_on, plan=self.plan, today=today)


class ShareFollowUpPlan(CaseCommand):
    """A plan version was shared with the doctor (sykmelder) or with NAV."""

    action = "share_follow_up_plan"
    plan_version: int = Field(ge=1)
    recipient: PlanRecipient

    def execute(self, case: Case, today: date) -> None:
        case.share_follow_up_plan(
            plan_version=self.plan_version, recipient=self.recipient, today=today
        )


class RecordDoctorConsent(CaseCommand):
    """The employee consents, or no longer does, to the doctor joining dialogue meetings."""

    action = "consent"
    consented: bool

    def execute(self, case: Case, today: date) -> None:
        case.record_doctor_consent(consented=self.consented, today=today)


class RequestDialogueMeeting(CaseCommand):
    """A party asks for a dialogue meeting (e.g. meeting 1 on graded leave, or meeting 3)."""

    action = "request_dialogue_meeting"
    meeting_number: MeetingNumber
    requested_by: Party

    def execute(self, case: Case, today: date) -> None:
        case.request_dialogue_meeting(
            meeting_number=self.meeting_number, requested_by=self.requested_by, today=today
        )


class ScheduleDialogueMeeting(CaseCommand):
    """A dialogue meeting (dialogmøte) is called."""

    action = "schedule_dialogue_meeting"
    meeting_id: str = id_field("The meeting's id, unique within the case.")
    meeting_number: MeetingNumber
    starts_at: AwareDatetime
    participants: list[Participant] = Field(min_length=2, max_length=20)

    def action_on(self, case: Case) -> str:
        return _meeting_action(self.meeting_number, self.action)

    def execute(self, case: Case, today: date) -> None:
        case.schedule_dialogue_meeting(
            meeting_id=self.meeting_id,
            meeting_number=self.meeting_number,
            starts_at=self.starts_at,
            participants=self.participants,
        )


class HoldDialogueMeetingBody(Command):
    """The meeting took place; the minutes go on to be signed by employer and employee."""

    held_on: date
    participants: list[Participant] = Field(min_length=2, max_length=20)
    minutes: str = text_field("What was discussed and agreed (no health data).", max_length=20000)


class HoldDialogueMeeting(HoldDialogueMeetingBody, CaseCommand):
    action = "hold_dialogue_meeting"
    meeting_id: str = id_field("The meeting, from the path.")

    def action_on(self, case: Case) -> str:
        meeting = case.state.meetings.get(self.meeting_id)
        return _meeting_action(meeting.number if meeting else None, self.action)

    def execute(self, case: Case, today: date) -> None:
        case.hold_dialogue_meeting(
            meeting_id=self.meeting_id,
            held_on=self.held_on,
            participants=self.participants,
            minutes=self.minutes,
            today=today,
        )


class CancelDialogueMeetingBody(Command):
    """The scheduled meeting will not take place."""

    reason: str = text_field("Why the meeting is cancelled.", max_length=500)


class CancelDialogueMeeting(CancelDialogueMeetingBody, CaseCommand):
    action = "cancel_dialogue_meeting"
    meeting_id: str = id_field("The meeting, from the path.")

    def action_on(self, case: Case) -> str:
        meeting = case.state.meetings.get(self.meeting_id)
        return _meeting_action(meeting.number if meeting else None, self.action)

    def execute(self, case: Case, today: date) -> None:
        case.cancel_dialogue_meeting(meeting_id=self.meeting_id, reason=self.reason)


class RecordMeetingException(CaseCommand):
    """NAV finds dialogue meeting 2 unnecessary (unntak), for a recorded reason."""

    action = "meeting_exception"
    reason: MeetingExceptionReason

    def execute(self, case: Case, today: date) -> None:
        case.record_meeting_exception(reason=self.reason, today=today)
