"""The write side end to end on both backends: embedded SQLite and PostgreSQL (one
statement per append, its command log with fingerprints, two streams in one transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from naervaer.testing.pytest_plugin import temporary_database

from .hosting import CaseApi, hosted_case_service

pytestmark = pytest.mark.integration
NOTE = {
    "sick_note_id": "n-1",
    "period_start": "2026-01-08",
    "period_end": "2026-01-20",
    "grade": 100,
    "kind": "ordinary",
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CaseApi]:
    if request.param == "sqlite":
        async with hosted_case_service(tmp_path) as api:
            yield api
        return
    server: str = request.getfixturevalue("postgres_url")
    async with (
        temporary_database(server) as url,
        hosted_case_service(tmp_path, database_url=url) as api,
    ):
        yield api


async def test_the_write_side_on_each_backend(backend: CaseApi) -> None:
    api = backend
    case_id = await api.open_case()
    egenmelding = await api.post(
        f"/v1/cases/{case_id}/self-certifications",
        {"period_start": "2026-01-05", "period_end": "2026-01-07"},
        role="employee",
        sub="emp-1",
    )
    assert egenmelding.status_code == 200, egenmelding.text
    assert await api.types(api.employee_stream("emp-1")) == ["employee.self_certification_used"]

    path = f"/v1/cases/{case_id}/sick-notes"
    first = await api.post(path, NOTE, Idempotency_Key="k-1")
    retry = await api.post(path, NOTE, Idempotency_Key="k-1")
    reused = await api.post(path, {**NOTE, "grade": 50, "kind": "graded"}, Idempotency_Key="k-1")
    assert (first.json(), retry.json()) == ({"case_id": case_id, "version": 3},) * 2
    assert reused.json()["rule"] == "idempotency_key_reused"

    stale = await api.post(
        f"/v1/cases/{case_id}/aap-applications", {"applied_on": "2026-02-20"}, If_Match="2"
    )
    diagnosis = await api.post(f"/v1/cases/{case_id}/sick-notes/n-1/cancel", {"reason": "F32.1"})
    assert (stale.status_code, diagnosis.status_code) == (412, 422)

    racing = await asyncio.gather(
        *(
            api.post(
                f"/v1/cases/{case_id}/aap-applications",
                {"applied_on": f"2026-02-1{n}"},
                If_Match="3",
            )
            for n in range(4)
        )
    )
    # One winner; each loser either lost the race for the version (409) or loaded after the
    # winner had written (412): which of the two depends on timing, never on the backend.
    statuses = sorted(r.status_code for r in racing)
    assert statuses[0] == 200
    assert set(statuses[1:]) <= {409, 412}
    assert await api.types(case_id) == [
        "case.opened",
        "case.self_certification_registered",
        "case.sick_note_received",
        "case.aap_application_recorded",
    ]
