"""No write accepts diagnosis data: a diagnosis field or code anywhere in a body is refused
with 422 ``diagnosis_not_allowed`` naming the field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest

from .hosting import CASE, CaseApi
from .test_commands_api import PLAN

DIAGNOSIS = "urn:naervaer:problem:diagnosis_not_allowed"


@pytest.mark.parametrize(
    ("path", "body", "pointer"),
    [
        (
            "sick-notes",
            {"sick_note_id": "n-1", "period_start": "2026-01-05", "period_end": "2026-01-09",
             "grade": 100, "kind": "ordinary", "diagnosis": "back pain"},
            "#/diagnosis",
        ),
        (
            "follow-up-conversations",
            {"held_on": "2026-01-12", "working_day": "Hard since the F32.1 came back",
             "what_can_change": "x", "agreed": "y"},
            "#/working_day",
        ),
        (
            "follow-up-plan",
            {"plan": {**PLAN, "additional_information": "Sykmeldt for L87."}},
            "#/plan/additional_information",
        ),
        (
            "dialogue-meetings",
            {"meeting_id": "m-1", "meeting_number": 1, "starts_at": "2026-02-16T10:00:00+01:00",
             "participants": [{"party": "employee", "icpc2": "L87"}, {"party": "manager"}]},
            "#/participants/0/icpc2",
        ),
        ("sick-notes/n-1/cancel", {"reason": "Wrong code M54 on it"}, "#/reason"),
    ],
)  # fmt: skip
async def test_diagnosis_data_is_refused_and_nothing_is_written(
    api: CaseApi, path: str, body: dict[str, Any], pointer: str
) -> None:
    case_id = await api.open_case()
    before = await api.head()
    response = await api.post(f"/v1/cases/{case_id}/{path}", body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert (problem["type"], problem["rule"]) == (DIAGNOSIS, "diagnosis_not_allowed")
    assert problem["errors"][0]["location"] == pointer
    assert "function" in problem["detail"]
    assert await api.head() == before


async def test_opening_and_the_employer_records_are_guarded_too(api: CaseApi) -> None:
    opened = await api.post("/v1/cases", {**CASE, "hoveddiagnose": "x"})
    withdrawn = await api.post(
        "/v1/employees/emp-1/self-certification/withdraw", {"reason": "ICD-10 code K21 noted"}
    )
    assert [r.json()["rule"] for r in (opened, withdrawn)] == ["diagnosis_not_allowed"] * 2


async def test_code_like_ids_and_dates_pass(api: CaseApi) -> None:
    case_id = await api.open_case(org_unit="K12")
    note = {
        "sick_note_id": "L87",
        "period_start": "2026-01-05",
        "period_end": "2026-01-09",
        "grade": 100,
        "kind": "ordinary",
    }
    response = await api.post(f"/v1/cases/{case_id}/sick-notes", note)
    assert response.status_code == 200, response.text


async def test_the_check_runs_after_authentication(api: CaseApi) -> None:
    response = await api.client.post("/v1/cases", json={**CASE, "diagnosis": "x"})
    assert response.status_code == 401


async def test_the_check_reads_the_body_whatever_its_declared_type(api: CaseApi) -> None:
    case_id = await api.open_case()
    before = await api.head()
    plain = await api.client.post(
        f"/v1/cases/{case_id}/sick-notes/n-1/cancel",
        content=b'{"reason": "Wrong code M54 on it"}',
        headers={**api.auth(), "Content-Type": "text/plain"},
    )
    malformed = await api.client.post(
        f"/v1/cases/{case_id}/sick-notes/n-1/cancel",
        content=b'{"reason": "Wrong code M54',
        headers={**api.auth(), "Content-Type": "application/json"},
    )
    assert plain.status_code == 422, plain.text
    assert plain.json()["rule"] == "diagnosis_not_allowed"
    assert malformed.status_code == 400, malformed.text
    assert malformed.json()["type"] == "urn:naervaer:problem:malformed-json"
    assert await api.head() == before
