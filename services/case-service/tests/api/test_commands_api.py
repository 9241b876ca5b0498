"""Every command's happy path through HTTP: 200 with the new version as body and ETag, one
event each, in the order sent; opening answers 201 with a Location."""

from __future__ import annotations

import uuid
from typing import Any

from .hosting import CASE, CaseApi

PLAN = {
    "typical_workday": "Picking orders, standing all day.",
    "tasks_that_can_still_be_done": "Desk registration work.",
    "tasks_that_can_not_be_done": "Heavy lifting.",
    "previous_facilitation": "None yet.",
    "planned_facilitation": "Desk tasks four hours a day.",
    "follow_up": "Weekly talk.",
    "evaluation_date": "2026-02-16",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "contact_person_full_name": "Kari Nordmann",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}
PEOPLE = [{"party": "employee"}, {"party": "manager"}]
EMPLOYEE, NAV = "employee", "nav"


def steps(employee: str) -> list[tuple[str, str, dict[str, Any], str]]:
    """(role, path under the case, body, event type) for every case command, in a real order."""
    nav_meeting = [*PEOPLE, {"party": "nav"}]
    return [
        (
            EMPLOYEE,
            "self-certifications",
            {"period_start": "2026-01-05", "period_end": "2026-01-07"},
            "case.self_certification_registered",
        ),
        (
            "hr",
            "sick-notes",
            {
                "sick_note_id": "n-1",
                "period_start": "2026-01-08",
                "period_end": "2026-01-25",
                "grade": 100,
                "kind": "ordinary",
            },
            "case.sick_note_received",
        ),
        ("hr", "sick-notes/n-1/extend", {"period_end": "2026-02-08"}, "case.sick_note_extended"),
        (
            "manager",
            "sick-notes",
            {
                "sick_note_id": "n-2",
                "period_start": "2026-02-09",
                "period_end": "2026-02-22",
                "grade": 50,
                "kind": "graded",
            },
            "case.sick_note_received",
        ),
        (
            "hr",
            "sick-notes/n-2/change-grading",
            {"effective_from": "2026-02-16", "grade": 40},
            "case.grading_changed",
        ),
        (
            "hr",
            "sick-notes/n-2/correct",
            {
                "period_start": "2026-02-09",
                "period_end": "2026-02-22",
                "grade": 60,
                "kind": "graded",
            },
            "case.sick_note_corrected",
        ),
        (
            "hr",
            "sick-notes",
            {
                "sick_note_id": "n-3",
                "period_start": "2026-02-23",
                "period_end": "2026-03-01",
                "grade": 100,
                "kind": "ordinary",
            },
            "case.sick_note_received",
        ),
        (
            "hr",
            "sick-notes/n-3/cancel",
            {"reason": "Sent twice by the doctor."},
            "case.sick_note_cancelled",
        ),
        (
            "manager",
            "follow-up-conversations",
            {
                "held_on": "2026-01-12",
                "working_day": "Standing is hard.",
                "what_can_change": "Desk work.",
                "agreed": "Try desk tasks.",
            },
            "case.follow_up_conversation_held",
        ),
        ("manager", "follow-up-plan", {"plan": PLAN}, "case.follow_up_plan_created"),
        (
            "manager",
            "follow-up-plan/revise",
            {"based_on": 1, "plan": {**PLAN, "follow_up": "Every second week."}},
            "case.follow_up_plan_revised",
        ),
        (
            "hr",
            "follow-up-plan/share",
            {"plan_version": 2, "recipient": "doctor"},
            "case.follow_up_plan_shared",
        ),
        (EMPLOYEE, "doctor-consent", {"consented": True}, "case.doctor_consent_recorded"),
        (
            "hr",
            "dialogue-meeting-requests",
            {"meeting_number": 1, "requested_by": "employee"},
            "case.dialogue_meeting_requested",
        ),
        (
            "manager",
            "dialogue-meetings",
            {
                "meeting_id": "m-1",
                "meeting_number": 1,
                "starts_at": "2026-02-16T10:00:00+01:00",
                "participants": [*PEOPLE, {"party": "doctor"}],
            },
            "case.dialogue_meeting_scheduled",
        ),
        (
            "manager",
            "dialogue-meetings/m-1/hold",
            {"held_on": "2026-02-16", "participants": PEOPLE, "minutes": "Desk tasks continue."},
            "case.dialogue_meeting_held",
        ),
        (
            NAV,
            "dialogue-meetings",
            {
                "meeting_id": "m-2",
                "meeting_number": 2,
                "starts_at": "2026-07-01T10:00:00+02:00",
                "participants": nav_meeting,
            },
            "case.dialogue_meeting_scheduled",
        ),
        (
            NAV,
            "dialogue-meetings/m-2/cancel",
            {"reason": "Not needed after all."},
            "case.dialogue_meeting_cancelled",
        ),
        (
            NAV,
            "meeting-exceptions",
            {"reason": "return_expected_within_28_weeks"},
            "case.meeting_exception_recorded",
        ),
        (
            "manager",
            "adjustments",
            {
                "adjustment_id": "a-1",
                "area": "working_time",
                "description": "Works 09-13, desk tasks only.",
                "starts_on": "2026-01-19",
                "ends_on": "2026-02-13",
            },
            "case.adjustment_recorded",
        ),
        (
            "manager",
            "adjustments/a-1/evaluate",
            {"outcome": "worked", "notes": "Back to six hours."},
            "case.adjustment_evaluated",
        ),
        (
            NAV,
            "activity-requirement-assessments",
            {"outcome": "met"},
            "case.activity_requirement_assessed",
        ),
        (
            "hr",
            "expert-assistance-requests",
            {
                "request_id": "r-1",
                "amount_nok": 15000,
                "purpose": "Ergonomics.",
                "internal_measures_tried": "Shorter shifts.",
            },
            "case.expert_assistance_requested",
        ),
        (
            NAV,
            "expert-assistance-requests/r-1/decide",
            {
                "approved": True,
                "employer_agrees": True,
                "employee_agrees": True,
                "nav_agrees": True,
            },
            "case.expert_assistance_decided",
        ),
        (
            "manager",
            "participation-issues",
            {"kind": "did_not_attend", "description": "Missed the talk on 26 January."},
            "case.participation_issue_recorded",
        ),
        ("hr", "aap-applications", {"applied_on": "2026-02-20"}, "case.aap_application_recorded"),
        (
            "hr",
            "employment-review",
            {"decision": "continue_with_adjustment"},
            "case.employment_review_decided",
        ),
        (
            "hr",
            "obligation-waivers",
            {"obligation": "aap_application", "reason": "Applied already."},
            "case.obligation_waived",
        ),
        ("hr", "reassign-manager", {"manager_id": "mgr-2"}, "case.manager_reassigned"),
        (
            "manager",
            "return-to-work",
            {"returned_on": "2026-03-02", "extent": "full", "working_percent": 100},
            "case.returned_to_work",
        ),
        ("hr", "close", {"closed_on": "2026-03-02", "reason": "returned_to_work"}, "case.closed"),
        (
            "hr",
            "reopen",
            {"absence_start": "2026-03-09", "began_with": "sick_note"},
            "case.reopened",
        ),
    ]


async def test_every_command_records_its_event(api: CaseApi) -> None:
    employee = f"emp-{uuid.uuid4().hex[:8]}"
    opened = await api.post("/v1/cases", {**CASE, "employee_id": employee})
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["case_id"]
    assert opened.json() == {"case_id": case_id, "version": 1}
    assert opened.headers["ETag"] == '"1"'
    assert opened.headers["Location"] == f"/v1/cases/{case_id}"

    expected = ["case.opened"]
    manager = "mgr-1"
    for version, (role, path, body, event_type) in enumerate(steps(employee), start=2):
        sub = {EMPLOYEE: employee, "manager": manager, NAV: "nav-1"}.get(role, "hr-1")
        response = await api.post(f"/v1/cases/{case_id}/{path}", body, role=role, sub=sub)
        assert response.status_code == 200, (path, response.text)
        assert response.json() == {"case_id": case_id, "version": version}
        assert response.headers["ETag"] == f'"{version}"'
        expected.append(event_type)
        manager = "mgr-2" if path == "reassign-manager" else manager

    assert await api.types(case_id) == expected
    ledger = await api.types(api.employee_stream(employee))
    assert ledger == ["employee.self_certification_used"]


async def test_the_case_reads_back_with_its_version_and_current_manager(api: CaseApi) -> None:
    case_id = await api.open_case()
    await api.post(f"/v1/cases/{case_id}/reassign-manager", {"manager_id": "mgr-9"})
    response = await api.client.get(f"/v1/cases/{case_id}", headers=api.auth())
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json()["manager_id"] == "mgr-9"
    assert response.json()["status"] == "open"


async def test_a_broken_rule_names_its_rule(api: CaseApi) -> None:
    case_id = await api.open_case()
    note = {"sick_note_id": "n-1", "period_start": "2026-01-05", "period_end": "2026-01-20"}
    response = await api.post(
        f"/v1/cases/{case_id}/sick-notes", {**note, "grade": 50, "kind": "ordinary"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:naervaer:problem:ordinary_note_not_full"
    assert body["rule"] == "ordinary_note_not_full"

    unknown = await api.post(
        f"/v1/cases/{case_id}/sick-notes/n-9/extend", {"period_end": "2026-02-01"}
    )
    assert (unknown.status_code, unknown.json()["rule"]) == (404, "sick_note_not_found")
    missing = await api.post(
        "/v1/cases/no-such-case/close", {"closed_on": "2026-03-01", "reason": "other"}
    )
    assert (missing.status_code, missing.json()["rule"]) == (404, "case_not_found")

    await api.post(f"/v1/cases/{case_id}/follow-up-plan", {"plan": PLAN})
    stale = await api.post(
        f"/v1/cases/{case_id}/follow-up-plan/revise", {"based_on": 2, "plan": PLAN}
    )
    assert (stale.status_code, stale.json()["rule"]) == (409, "plan_version_conflict")
    assert await api.types(case_id) == ["case.opened", "case.follow_up_plan_created"]


async def test_a_closed_case_refuses_commands_but_still_reads(api: CaseApi) -> None:
    case_id = await api.open_case()
    await api.post(f"/v1/cases/{case_id}/close", {"closed_on": "2026-02-01", "reason": "other"})
    before = await api.head()
    refused = await api.post(f"/v1/cases/{case_id}/aap-applications", {"applied_on": "2026-02-20"})
    assert (refused.status_code, refused.json()["rule"]) == (422, "case_closed")
    assert await api.head() == before
    read = await api.client.get(f"/v1/cases/{case_id}", headers=api.auth())
    assert read.json()["status"] == "closed"
    late = await api.post(
        f"/v1/cases/{case_id}/reopen", {"absence_start": "2026-03-01", "began_with": "sick_note"}
    )
    assert (late.status_code, late.json()["rule"]) == (422, "new_case_required")
    assert "open a new case" in late.json()["detail"]
