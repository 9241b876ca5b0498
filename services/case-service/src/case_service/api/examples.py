"""Request examples for OpenAPI, one per request body (tests validate each against its model)."""

from __future__ import annotations

from typing import Any

from fastapi import Body

_PLAN = {
    "typical_workday": "Picking orders in the warehouse, 7.5 hours, mostly standing.",
    "tasks_that_can_still_be_done": "Order registration and quality control at a desk.",
    "tasks_that_can_not_be_done": "Lifting over 10 kg; driving the forklift.",
    "previous_facilitation": "Shorter shifts tried in week 2.",
    "planned_facilitation": "Desk tasks four hours a day for three weeks.",
    "follow_up": "Weekly talk on Mondays with the manager.",
    "evaluation_date": "2026-02-16",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "message_to_general_practitioner": "Plan for graded work from week 4.",
    "contact_person_full_name": "Kari Nordmann",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}
_PARTICIPANTS = [
    {"party": "employee", "party_id": "emp-1001"},
    {"party": "manager", "party_id": "mgr-17"},
    {"party": "bht"},
]

EXAMPLES: dict[str, dict[str, Any]] = {
    "OpenCase": {
        "employee_id": "emp-1001",
        "manager_id": "mgr-17",
        "org_unit": "warehouse-north",
        "first_absence_day": "2026-01-05",
        "began_with": "sick_note",
    },
    "RegisterSelfCertification": {"period_start": "2026-01-05", "period_end": "2026-01-07"},
    "ReceiveSickNote": {
        "sick_note_id": "sm-2026-0042",
        "period_start": "2026-01-05",
        "period_end": "2026-01-25",
        "grade": 100,
        "kind": "ordinary",
    },
    "ExtendSickNoteBody": {"period_end": "2026-02-08"},
    "CorrectSickNoteBody": {
        "period_start": "2026-01-05",
        "period_end": "2026-01-25",
        "grade": 60,
        "kind": "graded",
    },
    "CancelSickNoteBody": {"reason": "Registered on the wrong employee."},
    "ChangeGradingBody": {"effective_from": "2026-01-19", "grade": 50},
    "HoldFollowUpConversation": {
        "held_on": "2026-01-12",
        "working_day": "Standing all day is hard; desk work goes well.",
        "what_can_change": "Fewer picking shifts, more registration work.",
        "agreed": "Desk tasks from next week; talk again in two weeks.",
    },
    "CreateFollowUpPlan": {"plan": _PLAN},
    "ReviseFollowUpPlan": {"based_on": 1, "plan": {**_PLAN, "evaluation_date": "2026-03-02"}},
    "ShareFollowUpPlan": {"plan_version": 1, "recipient": "doctor"},
    "RecordDoctorConsent": {"consented": True},
    "RequestDialogueMeeting": {"meeting_number": 3, "requested_by": "employee"},
    "ScheduleDialogueMeeting": {
        "meeting_id": "dm1-acme-42",
        "meeting_number": 1,
        "starts_at": "2026-02-16T10:00:00+01:00",
        "participants": _PARTICIPANTS,
    },
    "HoldDialogueMeetingBody": {
        "held_on": "2026-02-16",
        "participants": _PARTICIPANTS,
        "minutes": "Went through the plan; desk tasks continue four hours a day until March.",
    },
    "CancelDialogueMeetingBody": {"reason": "The employee is back at work."},
    "RecordMeetingException": {"reason": "return_expected_within_28_weeks"},
    "RecordAdjustment": {
        "adjustment_id": "adj-1",
        "area": "working_time",
        "description": "Works 09-13 instead of 07-15, desk tasks only.",
        "starts_on": "2026-01-19",
        "ends_on": "2026-02-13",
    },
    "EvaluateAdjustmentBody": {
        "outcome": "partly_worked",
        "notes": "Shorter days helped; desk tasks ran out after two weeks.",
    },
    "AssessActivityRequirement": {"outcome": "exempt", "exemption_reason": "medical_reasons"},
    "RequestExpertAssistance": {
        "request_id": "eb-1",
        "amount_nok": 15000,
        "purpose": "Ergonomic assessment of the picking workstation.",
        "internal_measures_tried": "Shorter shifts and desk tasks for six weeks.",
    },
    "DecideExpertAssistanceBody": {
        "approved": True,
        "employer_agrees": True,
        "employee_agrees": True,
        "nav_agrees": True,
    },
    "RecordParticipationIssue": {
        "kind": "did_not_attend",
        "description": "Did not come to the agreed follow-up talk on 26 January.",
    },
    "RecordAapApplication": {"applied_on": "2026-10-20"},
    "DecideEmploymentReview": {"decision": "continue_with_adjustment"},
    "ReassignManager": {"manager_id": "mgr-23"},
    "ReturnToWork": {"returned_on": "2026-03-02", "extent": "partial", "working_percent": 60},
    "CloseCase": {"closed_on": "2026-03-31", "reason": "returned_to_work"},
    "ReopenCase": {"absence_start": "2026-04-08", "began_with": "self_certification"},
    "WaiveObligation": {
        "obligation": "dialogue_meeting_1",
        "reason": "Obviously unnecessary: back at full work from next week.",
    },
    "WithdrawSelfCertification": {"reason": "Repeated self-certification on Mondays."},
    "SetCasePolicy": {"self_certification_quota": "ia", "quota_breach": "flag"},
    "SetRetentionPolicy": {"months_after_close": 36},
    "PlaceLegalHold": {"reason": "Dispute about the follow-up brought before the court."},
}


def example(model: type) -> Any:
    """``Body(...)`` documenting the example of ``model`` (by its class name)."""
    return Body(openapi_examples={"example": {"value": EXAMPLES[model.__name__]}})
