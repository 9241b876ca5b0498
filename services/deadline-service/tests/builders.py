"""A small script language for case histories: one method per case event, dates as ISO text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from deadline_service.domain.facts import CaseFacts, RecordedEvent, fold
from deadline_service.domain.kinds import ObligationKind
from deadline_service.domain.maxdate import SickPayHistory
from deadline_service.domain.policy import DEFAULT_POLICY, Policy
from deadline_service.domain.timeline import Obligation, plan
from naervaer.contracts import case as c
from naervaer.contracts import followup as f
from naervaer.contracts import measures as m


def d(text: str) -> date:
    return date.fromisoformat(text)


def plan_content(**overrides: Any) -> f.FollowUpPlan:
    fields: dict[str, Any] = {
        "typical_workday": "Picking orders",
        "tasks_that_can_still_be_done": "Light picking",
        "tasks_that_can_not_be_done": "Heavy lifting",
        "previous_facilitation": "None",
        "planned_facilitation": "Shorter days",
        "follow_up": "Weekly talk",
        "evaluation_date": date(2030, 1, 1),
        "send_plan_to_nav": False,
        "send_plan_to_general_practitioner": True,
        "contact_person_full_name": "Kari Leder",
        "contact_person_phone_number": "+47 99999999",
        "employee_has_contributed_to_plan": True,
    }
    return f.FollowUpPlan(**(fields | overrides))


PARTICIPANTS = [f.Participant(party="employee"), f.Participant(party="manager")]


class CaseScript:
    """Records contract payloads for one case; ``obligations()`` runs the engine on them."""

    def __init__(
        self,
        start: str,
        *,
        case_id: str = "case-1",
        began_with: str = "sick_note",
        employee_id: str = "emp-1",
        manager_id: str = "mgr-1",
    ):
        self.case_id = case_id
        self.events: list[RecordedEvent] = []
        self.add(
            c.CaseOpened(
                case_id=case_id,
                employee_id=employee_id,
                manager_id=manager_id,
                org_unit="warehouse",
                first_absence_day=d(start),
                began_with=began_with,
            )
        )

    def add(self, payload: object) -> str:
        event_id = f"ev-{len(self.events) + 1}"
        self.events.append(RecordedEvent(event_id, payload))
        return event_id

    def note(
        self, start: str, end: str, grade: int = 100, note_id: str = "", kind: str = ""
    ) -> str:
        kind = kind or ("ordinary" if grade == 100 else "graded")
        return self.add(
            c.SickNoteReceived(
                case_id=self.case_id,
                sick_note_id=note_id or f"note-{len(self.events)}",
                period_start=d(start),
                period_end=d(end),
                grade=grade,
                kind=kind,
            )
        )

    def self_certified(self, start: str, end: str) -> str:
        days = (d(end) - d(start)).days + 1
        return self.add(
            c.SelfCertificationRegistered(
                case_id=self.case_id, period_start=d(start), period_end=d(end), days=days
            )
        )

    def extend(self, note_id: str, end: str) -> str:
        return self.add(
            c.SickNoteExtended(case_id=self.case_id, sick_note_id=note_id, period_end=d(end))
        )

    def correct(self, note_id: str, start: str, end: str, grade: int) -> str:
        kind = "ordinary" if grade == 100 else "graded"
        return self.add(
            c.SickNoteCorrected(
                case_id=self.case_id,
                sick_note_id=note_id,
                period_start=d(start),
                period_end=d(end),
                grade=grade,
                kind=kind,
            )
        )

    def cancel(self, note_id: str) -> str:
        return self.add(
            c.SickNoteCancelled(case_id=self.case_id, sick_note_id=note_id, reason="wrong")
        )

    def grading(self, note_id: str, since: str, grade: int) -> str:
        return self.add(
            c.GradingChanged(
                case_id=self.case_id, sick_note_id=note_id, effective_from=d(since), grade=grade
            )
        )

    def returned(self, day: str, working_percent: int = 100) -> str:
        extent = "full" if working_percent == 100 else "partial"
        return self.add(
            c.ReturnedToWork(
                case_id=self.case_id,
                returned_on=d(day),
                extent=extent,
                working_percent=working_percent,
            )
        )

    def close(self, day: str) -> str:
        return self.add(
            c.CaseClosed(case_id=self.case_id, closed_on=d(day), reason="returned_to_work")
        )

    def reopen(self, day: str) -> str:
        return self.add(
            c.CaseReopened(case_id=self.case_id, absence_start=d(day), began_with="sick_note")
        )

    def waive(self, kind: str, day: str) -> str:
        return self.add(
            c.ObligationWaived(
                case_id=self.case_id, obligation=kind, reason="obviously unnecessary",
                waived_on=d(day),
            )
        )  # fmt: skip

    def plan(self, day: str, version: int = 1) -> str:
        if version == 1:
            return self.add(
                f.FollowUpPlanCreated(case_id=self.case_id, made_on=d(day), plan=plan_content())
            )
        return self.add(
            f.FollowUpPlanRevised(
                case_id=self.case_id, plan_version=version, made_on=d(day), plan=plan_content()
            )
        )

    def share(self, version: int, recipient: str, day: str) -> str:
        return self.add(
            f.FollowUpPlanShared(
                case_id=self.case_id, plan_version=version, recipient=recipient,
                shared_on=d(day),
            )
        )  # fmt: skip

    def request_meeting(self, number: int, by: str, day: str) -> str:
        return self.add(
            f.DialogueMeetingRequested(
                case_id=self.case_id, meeting_number=number, requested_by=by,
                requested_on=d(day),
            )
        )  # fmt: skip

    def schedule_meeting(self, number: int, meeting_id: str, day: str) -> str:
        return self.add(
            f.DialogueMeetingScheduled(
                case_id=self.case_id,
                meeting_id=meeting_id,
                meeting_number=number,
                starts_at=datetime.combine(d(day), datetime.min.time(), UTC).replace(hour=9),
                participants=PARTICIPANTS,
                employee_consented_to_doctor=False,
            )
        )

    def cancel_meeting(self, number: int, meeting_id: str) -> str:
        return self.add(
            f.DialogueMeetingCancelled(
                case_id=self.case_id, meeting_id=meeting_id, meeting_number=number,
                reason="ill",
            )
        )  # fmt: skip

    def hold_meeting(self, number: int, day: str, meeting_id: str = "") -> str:
        return self.add(
            f.DialogueMeetingHeld(
                case_id=self.case_id,
                meeting_id=meeting_id or f"m{number}",
                meeting_number=number,
                held_on=d(day),
                participants=PARTICIPANTS,
                minutes="Agreed on shorter days.",
            )
        )

    def meeting_exception(self, day: str) -> str:
        return self.add(
            f.MeetingExceptionRecorded(
                case_id=self.case_id, reason="medical_reasons", recorded_on=d(day)
            )
        )

    def assess(self, day: str, outcome: str, reason: str | None = None) -> str:
        return self.add(
            m.ActivityRequirementAssessed(
                case_id=self.case_id, assessed_on=d(day), outcome=outcome,
                exemption_reason=reason,
            )
        )  # fmt: skip

    def aap(self, day: str) -> str:
        return self.add(m.AapApplicationRecorded(case_id=self.case_id, applied_on=d(day)))

    def review(self, day: str) -> str:
        return self.add(
            m.EmploymentReviewDecided(
                case_id=self.case_id, decided_on=d(day), decision="continue_with_adjustment"
            )
        )

    def payloads(self) -> list[Any]:
        return [event.payload for event in self.events]

    def facts(self) -> CaseFacts:
        return fold(self.case_id, self.events)

    def obligations(
        self, policy: Policy = DEFAULT_POLICY, history: SickPayHistory | None = None
    ) -> dict[ObligationKind, Obligation]:
        return {o.kind: o for o in plan(self.facts(), policy, history=history)}

    def get(self, kind: str, policy: Policy = DEFAULT_POLICY) -> Obligation:
        return self.obligations(policy)[ObligationKind(kind)]
