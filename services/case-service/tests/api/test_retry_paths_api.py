"""A retried case command (same Idempotency-Key) gets its first answer on every path, on both
backends, while a first attempt makes no separate read of the command log.

The handler decides first and lets the append recognise a logged command; the command log is
read only when deciding again refuses or changes nothing. Each path is pinned here, with the
number of command-log reads counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from case_service.adapters.repository import CaseRepository, CaseVersion
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
AAP = {"applied_on": "2026-02-20"}


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


@pytest.fixture
def log_reads(backend: CaseApi, monkeypatch: pytest.MonkeyPatch) -> list[CaseVersion | None]:
    """What each read of the command log (``CaseRepository.earlier``) answered, in order."""
    answers: list[CaseVersion | None] = []
    earlier = CaseRepository.earlier

    async def counted(self: CaseRepository, write: object) -> CaseVersion | None:
        answer = await earlier(self, write)  # type: ignore[arg-type]
        answers.append(answer)
        return answer

    monkeypatch.setattr(CaseRepository, "earlier", counted)
    return answers


async def test_a_first_attempt_reads_no_command_log(
    backend: CaseApi, log_reads: list[CaseVersion | None]
) -> None:
    case_id = await backend.open_case()

    response = await backend.post(f"/v1/cases/{case_id}/sick-notes", NOTE, Idempotency_Key="n")

    assert (response.status_code, response.json()["version"]) == (200, 2)
    assert response.headers["ETag"] == '"2"'
    assert log_reads == [None]  # open_case still asks first (it makes the employee's key)


async def test_a_retry_decided_again_is_answered_by_the_append(
    backend: CaseApi, log_reads: list[CaseVersion | None]
) -> None:
    case_id = await backend.open_case()
    path = f"/v1/cases/{case_id}/aap-applications"  # may be recorded again: the rule passes
    first = await backend.post(path, AAP, Idempotency_Key="aap")
    before = await backend.head()

    retry = await backend.post(path, AAP, Idempotency_Key="aap")

    assert (retry.status_code, retry.json()) == (200, first.json())
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert await backend.head() == before
    assert await backend.types(case_id) == ["case.opened", "case.aap_application_recorded"]
    assert log_reads == [None]  # only open_case's: the append recognised the retry


async def test_a_retry_refused_now_is_answered_from_the_command_log(
    backend: CaseApi, log_reads: list[CaseVersion | None]
) -> None:
    case_id = await backend.open_case()
    path = f"/v1/cases/{case_id}/sick-notes"
    first = await backend.post(path, NOTE, Idempotency_Key="n", If_Match='"1"')
    await backend.post(f"/v1/cases/{case_id}/aap-applications", AAP)
    before = await backend.head()

    # Both If-Match (now 3) and the rule (the note exists) would refuse a new decision.
    retry = await backend.post(path, NOTE, Idempotency_Key="n", If_Match='"1"')

    assert (retry.status_code, retry.json()) == (200, first.json())
    assert await backend.head() == before
    assert log_reads[-1] == CaseVersion(case_id, 2, duplicate=True)


async def test_a_retry_that_changes_nothing_now_gets_the_first_version(
    backend: CaseApi, log_reads: list[CaseVersion | None]
) -> None:
    case_id = await backend.open_case()
    path = f"/v1/cases/{case_id}/doctor-consent"
    consent = {"consented": True}
    first = await backend.post(path, consent, role="employee", sub="emp-1", Idempotency_Key="c")
    await backend.post(f"/v1/cases/{case_id}/aap-applications", AAP)

    # Consent stands: deciding again records nothing, so the first answer (version 2) must
    # come from the command log, not the case's current version (3).
    retry = await backend.post(path, consent, role="employee", sub="emp-1", Idempotency_Key="c")

    assert (first.json()["version"], retry.json()) == (2, first.json())
    assert retry.headers["ETag"] == '"2"'
    assert log_reads[-1] == CaseVersion(case_id, 2, duplicate=True)


async def test_a_refusal_without_a_logged_command_is_the_refusal(
    backend: CaseApi, log_reads: list[CaseVersion | None]
) -> None:
    case_id = await backend.open_case()
    before = await backend.head()

    stale = await backend.post(
        f"/v1/cases/{case_id}/sick-notes", NOTE, Idempotency_Key="new", If_Match='"7"'
    )

    assert stale.status_code == 412
    assert stale.json()["current_version"] == 1
    assert await backend.head() == before
    assert log_reads[-1] is None
