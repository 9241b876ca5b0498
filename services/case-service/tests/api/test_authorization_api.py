"""Who may read and write a case, role by role, and the access record (innsynslogg) that every
read, write and refusal leaves; another tenant's case does not exist (404)."""

from __future__ import annotations

import pytest

from .hosting import CaseApi

EMPLOYEE, MANAGER = "emp-1", "mgr-1"
NOTE = {
    "sick_note_id": "n-1",
    "period_start": "2026-01-05",
    "period_end": "2026-01-09",
    "grade": 100,
    "kind": "ordinary",
}
ASSESSMENT = {"outcome": "met"}

# (role, subject, may read, may register a sick note, may assess the activity requirement)
ROLES = [
    ("employee", EMPLOYEE, True, False, False),
    ("employee", "emp-2", False, False, False),
    ("manager", MANAGER, True, True, False),
    ("manager", "mgr-2", False, False, False),
    ("hr", "hr-1", True, True, False),
    ("nav", "nav-1", True, False, True),
    ("bht", "bht-1", True, False, False),
    ("auditor", "aud-1", True, False, False),
    ("system", "svc-1", True, True, True),
]


@pytest.mark.parametrize(("role", "sub", "reads", "writes", "nav_act"), ROLES)
async def test_roles_read_and_write_as_the_policy_says(
    api: CaseApi, role: str, sub: str, reads: bool, writes: bool, nav_act: bool
) -> None:
    case_id = await api.open_case(employee_id=EMPLOYEE, manager_id=MANAGER)
    headers = api.auth(role, sub)
    read = await api.client.get(f"/v1/cases/{case_id}", headers=headers)
    history = await api.client.get(f"/v1/cases/{case_id}/events", headers=headers)
    note = await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, role=role, sub=sub)
    assess = await api.post(
        f"/v1/cases/{case_id}/activity-requirement-assessments", ASSESSMENT, role=role, sub=sub
    )
    assert (read.status_code, history.status_code) == ((200, 200) if reads else (403, 403))
    assert note.status_code == (200 if writes else 403)
    assert assess.status_code == (200 if nav_act else 403)
    assert len(await api.types(case_id)) == 1 + writes + nav_act


async def test_every_write_and_refusal_leaves_an_access_record(api: CaseApi) -> None:
    case_id = await api.open_case()
    await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, role="manager", sub=MANAGER)
    await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, role="auditor", sub="aud-1")
    records = [(r.action, r.operation, r.subject, r.case_id) for r in api.access]
    assert api.access[0].resource_id == case_id  # no case yet when an opening is checked
    assert records == [
        ("write", "open_case", "hr-1", None),
        ("write", "register_sick_note", MANAGER, case_id),
        ("denied", "register_sick_note", "aud-1", case_id),
    ]


async def test_employee_acts_are_the_employees_own(api: CaseApi) -> None:
    case_id = await api.open_case(employee_id=EMPLOYEE)
    consent = f"/v1/cases/{case_id}/doctor-consent"
    assert (await api.post(consent, {"consented": True})).status_code == 403  # HR cannot
    by_other = await api.post(consent, {"consented": True}, role="employee", sub="emp-2")
    own = await api.post(consent, {"consented": True}, role="employee", sub=EMPLOYEE)
    assert (by_other.status_code, own.status_code) == (403, 200)


async def test_meeting_2_is_navs_and_meeting_1_the_employers(api: CaseApi) -> None:
    case_id = await api.open_case()
    people = [{"party": "employee"}, {"party": "manager"}, {"party": "nav"}]
    meeting = {
        "meeting_number": 2,
        "starts_at": "2026-07-01T10:00:00+02:00",
        "participants": people,
    }
    path = f"/v1/cases/{case_id}/dialogue-meetings"
    by_hr = await api.post(path, {**meeting, "meeting_id": "m-2"})
    by_nav = await api.post(path, {**meeting, "meeting_id": "m-2"}, role="nav", sub="nav-1")
    one = {**meeting, "meeting_id": "m-1", "meeting_number": 1}
    nav_one = await api.post(path, one, role="nav", sub="nav-1")
    assert [r.status_code for r in (by_hr, by_nav, nav_one)] == [403, 200, 403]
    held = {"held_on": "2026-03-02", "participants": people, "minutes": "Agreed."}
    hold_by_hr = await api.post(f"{path}/m-2/hold", held)
    assert hold_by_hr.status_code == 403
    assert api.access[-1].operation == "nav_meeting"


async def test_waiving_an_obligation_is_hrs(api: CaseApi) -> None:
    case_id = await api.open_case(manager_id=MANAGER)
    waiver = {"obligation": "dialogue_meeting_1", "reason": "Obviously unnecessary."}
    path = f"/v1/cases/{case_id}/obligation-waivers"
    by_manager = await api.post(path, waiver, role="manager", sub=MANAGER)
    by_hr = await api.post(path, waiver)
    assert (by_manager.status_code, by_hr.status_code) == (403, 200)
    assert "reserved to hr" in by_manager.json()["detail"]


async def test_the_history_follows_the_new_manager_not_the_old(api: CaseApi) -> None:
    case_id = await api.open_case(manager_id=MANAGER)
    await api.post(f"/v1/cases/{case_id}/reassign-manager", {"manager_id": "mgr-new"})
    new = await api.client.get(
        f"/v1/cases/{case_id}/events", headers=api.auth("manager", "mgr-new")
    )
    old = await api.client.get(f"/v1/cases/{case_id}/events", headers=api.auth("manager", MANAGER))
    assert (new.status_code, old.status_code) == (200, 403)
    assert len(new.json()["events"]) == 2
    old_write = await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, role="manager", sub=MANAGER)
    assert old_write.status_code == 403


@pytest.mark.parametrize("role", ["hr", "system", "employee", "manager", "nav", "auditor"])
async def test_another_tenants_case_does_not_exist(api: CaseApi, role: str) -> None:
    case_id = await api.open_case(employee_id=EMPLOYEE, manager_id=MANAGER)
    sub = {"employee": EMPLOYEE, "manager": MANAGER}.get(role, "x-1")
    foreign = api.auth(role, sub, tenant="globex")
    read = await api.client.get(f"/v1/cases/{case_id}", headers=foreign)
    write = await api.post(
        f"/v1/cases/{case_id}/sick-notes", NOTE, role=role, sub=sub, tenant="globex"
    )
    unknown = await api.post("/v1/cases/no-such-case/sick-notes", NOTE, role=role, sub=sub)
    assert (read.status_code, write.status_code, unknown.status_code) == (404, 404, 404)
    assert _without_instance(write.json(), case_id) == _without_instance(
        unknown.json(), "no-such-case"
    )
    assert len(await api.types(case_id)) == 1


def _without_instance(problem: dict[str, object], case_id: str) -> dict[str, object]:
    """The problem with the case id (which the caller sent) taken out."""
    return {k: str(v).replace(case_id, "<id>") for k, v in problem.items() if k != "instance"}


async def test_employer_records_are_hrs_and_systems(api: CaseApi) -> None:
    withdraw = "/v1/employees/emp-77/self-certification/withdraw"
    body = {"reason": "Misuse on Mondays."}
    by_manager = await api.post(withdraw, body, role="manager", sub=MANAGER)
    policy = {"self_certification_quota": "ia", "quota_breach": "flag"}
    put = await api.client.put(
        "/v1/tenants/acme/case-policy", json=policy, headers=api.auth("manager", MANAGER)
    )
    foreign = await api.client.put(
        "/v1/tenants/acme/case-policy", json=policy, headers=api.auth("hr", "hr-9", "globex")
    )
    read_by_auditor = await api.client.get(
        "/v1/tenants/acme/case-policy", headers=api.auth("auditor", "aud-1")
    )
    read_by_employee = await api.client.get(
        "/v1/tenants/acme/case-policy", headers=api.auth("employee", EMPLOYEE)
    )
    statuses = [
        r.status_code for r in (by_manager, put, foreign, read_by_auditor, read_by_employee)
    ]
    assert statuses == [403, 403, 404, 200, 403]
