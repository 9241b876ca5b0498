"""Idempotency-Key (retry = first answer, nothing written; reuse with another body = 422),
If-Match (stale = 412) and concurrent writes (409), each leaving the store as it was."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from case_service.adapters.repository import CaseRepository, StoredCase

from .hosting import CASE, CaseApi

NOTE = {
    "sick_note_id": "n-1",
    "period_start": "2026-01-05",
    "period_end": "2026-01-20",
    "grade": 100,
    "kind": "ordinary",
}


async def test_a_retry_returns_the_first_response_and_writes_nothing(api: CaseApi) -> None:
    case_id = await api.open_case()
    path = f"/v1/cases/{case_id}/sick-notes"
    first = await api.post(path, NOTE, Idempotency_Key="note-1")
    before = await api.head()

    retry = await api.post(path, NOTE, Idempotency_Key="note-1")

    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert retry.headers["ETag"] == first.headers["ETag"] == '"2"'
    assert await api.head() == before


async def test_a_retry_is_answered_even_after_later_changes(api: CaseApi) -> None:
    case_id = await api.open_case()
    path = f"/v1/cases/{case_id}/sick-notes"
    first = await api.post(path, NOTE, Idempotency_Key="note-1")
    await api.post(f"/v1/cases/{case_id}/aap-applications", {"applied_on": "2026-02-20"})

    # Deciding again would refuse (the note exists; the version moved): the first answer stands.
    retry = await api.post(path, NOTE, Idempotency_Key="note-1", If_Match='"1"')

    assert (retry.status_code, retry.json()) == (200, first.json())
    assert len(await api.types(case_id)) == 3


async def test_the_same_key_with_another_body_is_refused(api: CaseApi) -> None:
    case_id = await api.open_case()
    path = f"/v1/cases/{case_id}/sick-notes"
    await api.post(path, NOTE, Idempotency_Key="note-1")
    before = await api.head()

    reused = await api.post(path, {**NOTE, "period_end": "2026-01-21"}, Idempotency_Key="note-1")

    assert reused.status_code == 422
    assert reused.json()["type"] == "urn:naervaer:problem:idempotency_key_reused"
    assert await api.head() == before


async def test_keys_are_per_caller_and_route(api: CaseApi) -> None:
    case_id = await api.open_case()
    first = await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, Idempotency_Key="k")
    other_route = await api.post(
        f"/v1/cases/{case_id}/aap-applications", {"applied_on": "2026-02-20"}, Idempotency_Key="k"
    )
    other_caller = await api.post(
        f"/v1/cases/{case_id}/sick-notes",
        {**NOTE, "sick_note_id": "n-2", "period_start": "2026-01-21", "period_end": "2026-01-25"},
        sub="hr-2",
        Idempotency_Key="k",
    )
    assert [r.status_code for r in (first, other_route, other_caller)] == [200, 200, 200]
    assert len(await api.types(case_id)) == 4


async def test_opening_retried_returns_the_same_case(api: CaseApi) -> None:
    key = f"open-{uuid.uuid4()}"
    first = await api.post("/v1/cases", CASE, Idempotency_Key=key)
    before = await api.head()
    retry = await api.post("/v1/cases", CASE, Idempotency_Key=key)
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry.headers["Location"] == first.headers["Location"]
    assert await api.head() == before
    reused = await api.post("/v1/cases", {**CASE, "org_unit": "office"}, Idempotency_Key=key)
    assert reused.status_code == 422


async def test_self_certification_retried_writes_neither_stream_again(api: CaseApi) -> None:
    employee = f"emp-{uuid.uuid4().hex[:8]}"
    case_id = await api.open_case(employee_id=employee)
    body = {"period_start": "2026-01-05", "period_end": "2026-01-06"}
    path = f"/v1/cases/{case_id}/self-certifications"
    first = await api.post(path, body, role="employee", sub=employee, Idempotency_Key="sc-1")
    before = await api.head()
    retry = await api.post(path, body, role="employee", sub=employee, Idempotency_Key="sc-1")
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert await api.head() == before
    assert len(await api.stream(api.employee_stream(employee))) == 1


@pytest.mark.parametrize("if_match", ['"1"', "1", "*"])
async def test_if_match_on_the_current_version_writes(api: CaseApi, if_match: str) -> None:
    case_id = await api.open_case()
    response = await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, If_Match=if_match)
    assert response.status_code == 200


@pytest.mark.parametrize("if_match", ['"2"', "0", 'W/"1"'])
async def test_a_stale_if_match_is_412_and_writes_nothing(api: CaseApi, if_match: str) -> None:
    case_id = await api.open_case()
    before = await api.head()
    response = await api.post(f"/v1/cases/{case_id}/sick-notes", NOTE, If_Match=if_match)
    assert response.status_code == 412
    assert response.headers["ETag"] == '"1"'
    assert response.json()["current_version"] == 1
    assert await api.head() == before


async def test_concurrent_writes_on_one_version_have_one_winner_and_a_409(
    api: CaseApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = await api.open_case()
    both_loaded = asyncio.Barrier(2)
    load: Callable[..., Awaitable[StoredCase]] = CaseRepository.get

    async def get_then_wait(self: CaseRepository, case_id: str, **kwargs: object) -> StoredCase:
        stored = await load(self, case_id, **kwargs)
        await both_loaded.wait()  # both requests decide on the same version
        return stored

    monkeypatch.setattr(CaseRepository, "get", get_then_wait)
    responses = await asyncio.gather(
        *(
            api.post(f"/v1/cases/{case_id}/aap-applications", {"applied_on": f"2026-02-2{n}"})
            for n in (1, 2)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.json()["type"] == "urn:naervaer:problem:concurrency-conflict"
    assert len(await api.types(case_id)) == 2
