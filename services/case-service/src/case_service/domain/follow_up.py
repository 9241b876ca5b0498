"""Follow-up: the conversation, the follow-up plan (oppfølgingsplan) and dialogue meetings.

Rules: the plan is created once, then revised on its current version only; a plan version is
shared only if it exists. A meeting is held only if it was scheduled and not cancelled; the
employee and an employer representative (manager or HR) take part, NAV too in meeting 2; the
doctor (sykmelder) takes part only while the employee consents. Meetings 1 and 2 happen once;
NAV may except meeting 2 (unntak) unless it was held.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from case_service.domain.base import CaseBase
from case_service.domain.errors import NotFound, RuleBroken, StaleVersion
from case_service.domain.periods import not_in_future
from case_service.domain.state import Meeting
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingHeld,
    DialogueMeetingRequested,
    DialogueMeetingScheduled,
    DoctorConsentRecorded,
    FollowUpConversationHeld,
    FollowUpPlan,
    FollowUpPlanCreated,
    FollowUpPlanRevised,
    FollowUpPlanShared,
    MeetingExceptionReason,
    MeetingExceptionRecorded,
    MeetingNumber,
    Participant,
    Party,
    PlanRecipient,
)

ONCE_ONLY_MEETINGS = (1, 2)


class FollowUpDecisions(CaseBase):
    def hold_follow_up_conversation(
        self, *, held_on: date, working_day: str, what_can_change: str, agreed: str, today: date
    ) -> None:
        """Manager and employee talked through the three core questions."""
        self._require_open()
        not_in_future(held_on, today, "the conversation")
        self._record(
            FollowUpConversationHeld(
                case_id=self.case_id,
                held_on=held_on,
                working_day=working_day,
                what_can_change=what_can_change,
                agreed=agreed,
            )
        )

    def create_follow_up_plan(self, *, plan: FollowUpPlan, today: date) -> None:
        """The first version of the follow-up plan (aml § 4-6 (3))."""
        self._require_open()
        if self.state.plan_version:
            raise RuleBroken(
                "follow_up_plan_exists", "the case has a follow-up plan: revise it instead"
            )
        self._record(FollowUpPlanCreated(case_id=self.case_id, made_on=today, plan=plan))

    def revise_follow_up_plan(self, *, based_on: int, plan: FollowUpPlan, today: date) -> None:
        """A new version of the plan, made from the current one (``based_on``)."""
        self._require_open()
        current = self.state.plan_version
        if not current:
            raise RuleBroken("follow_up_plan_missing", "the case has no follow-up plan to revise")
        if based_on != current:
            raise StaleVersion(
                "plan_version_conflict",
                f"the revision is based on version {based_on}; the current version is {current}",
            )
        self._record(
            FollowUpPlanRevised(
                case_id=self.case_id, plan_version=current + 1, made_on=today, plan=plan
            )
        )

    def share_follow_up_plan(
        self, *, plan_version: int, recipient: PlanRecipient, today: date
    ) -> None:
        """A plan version went to the doctor or to NAV."""
        self._require_open()
        if not 1 <= plan_version <= self.state.plan_version:
            raise NotFound("plan_version_not_found", f"no follow-up plan version {plan_version}")
        self._record(
            FollowUpPlanShared(
                case_id=self.case_id,
                plan_version=plan_version,
                recipient=recipient,
                shared_on=today,
            )
        )

    def record_doctor_consent(self, *, consented: bool, today: date) -> None:
        """The employee consents (or no longer does) to the doctor joining meetings."""
        self._require_open()
        if consented != self.state.doctor_consent:
            self._record(
                DoctorConsentRecorded(case_id=self.case_id, consented=consented, recorded_on=today)
            )

    def request_dialogue_meeting(
        self, *, meeting_number: MeetingNumber, requested_by: Party, today: date
    ) -> None:
        self._require_open()
        self._check_not_held(meeting_number)
        self._record(
            DialogueMeetingRequested(
                case_id=self.case_id,
                meeting_number=meeting_number,
                requested_by=requested_by,
                requested_on=today,
            )
        )

    def schedule_dialogue_meeting(
        self,
        *,
        meeting_id: str,
        meeting_number: MeetingNumber,
        starts_at: datetime,
        participants: Sequence[Participant],
    ) -> None:
        """A dialogue meeting (dialogmøte) was called."""
        self._require_open()
        if meeting_id in self.state.meetings:
            raise RuleBroken("meeting_exists", f"meeting {meeting_id} was scheduled before")
        self._check_not_held(meeting_number)
        if meeting_number == 2 and self.state.meeting_2_exception:
            raise RuleBroken("meeting_excepted", "NAV recorded an exception from meeting 2")
        if any(m == Meeting(meeting_number, "scheduled") for m in self.state.meetings.values()):
            raise RuleBroken(
                "meeting_already_scheduled", f"meeting {meeting_number} is scheduled already"
            )
        self._check_participants(meeting_number, participants)
        self._record(
            DialogueMeetingScheduled(
                case_id=self.case_id,
                meeting_id=meeting_id,
                meeting_number=meeting_number,
                starts_at=starts_at,
                participants=list(participants),
                employee_consented_to_doctor=self.state.doctor_consent,
            )
        )

    def hold_dialogue_meeting(
        self,
        *,
        meeting_id: str,
        held_on: date,
        participants: Sequence[Participant],
        minutes: str,
        today: date,
    ) -> None:
        """The meeting took place; its minutes go on to be signed by both parties."""
        meeting = self._scheduled_meeting(meeting_id)
        not_in_future(held_on, today, "the meeting")
        self._check_participants(meeting.number, participants)
        self._record(
            DialogueMeetingHeld(
                case_id=self.case_id,
                meeting_id=meeting_id,
                meeting_number=meeting.number,
                held_on=held_on,
                participants=list(participants),
                minutes=minutes,
            )
        )

    def cancel_dialogue_meeting(self, *, meeting_id: str, reason: str) -> None:
        meeting = self._scheduled_meeting(meeting_id)
        self._record(
            DialogueMeetingCancelled(
                case_id=self.case_id,
                meeting_id=meeting_id,
                meeting_number=meeting.number,
                reason=reason,
            )
        )

    def record_meeting_exception(self, *, reason: MeetingExceptionReason, today: date) -> None:
        """NAV found meeting 2 unnecessary (unntak fra dialogmøte 2), for a recorded reason."""
        self._require_open()
        self._check_not_held(2)
        if self.state.meeting_2_exception:
            raise RuleBroken("meeting_exception_exists", "an exception is recorded already")
        self._record(
            MeetingExceptionRecorded(case_id=self.case_id, reason=reason, recorded_on=today)
        )

    def _scheduled_meeting(self, meeting_id: str) -> Meeting:
        self._require_open()
        meeting = self.state.meetings.get(meeting_id)
        if meeting is None:
            raise NotFound("meeting_not_found", f"case has no meeting {meeting_id}")
        if meeting.status == "cancelled":
            raise RuleBroken("meeting_cancelled", f"meeting {meeting_id} was cancelled")
        if meeting.status == "held":
            raise RuleBroken("meeting_already_held", f"meeting {meeting_id} was held already")
        return meeting

    def _check_not_held(self, number: int) -> None:
        if number in ONCE_ONLY_MEETINGS and self.state.held(number):
            raise RuleBroken("meeting_already_held", f"meeting {number} was held already")

    def _check_participants(self, number: int, participants: Sequence[Participant]) -> None:
        parties = {participant.party for participant in participants}
        needed = {"employee"} | ({"nav"} if number == 2 else set())
        if not needed <= parties or not parties & {"manager", "hr"}:
            raise RuleBroken(
                "meeting_participants_missing",
                f"meeting {number} needs the employee and the employer (manager or HR)"
                + (", and NAV" if number == 2 else ""),
            )
        if "doctor" in parties and not self.state.doctor_consent:
            raise RuleBroken(
                "doctor_needs_employee_consent",
                "the doctor may take part only with the employee's consent",
            )
