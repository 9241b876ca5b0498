"""The event platform end to end, in both transports: REST command → event store → (outbox →
Kafka | embedded log) → idempotent consumers in the other three services, traced as one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deadline_service.adapters.tables import cases as deadline_cases
from document_service.adapters.tables import audit_entries
from naervaer.privacy import sealed_key_ids, unseal_data
from naervaer.testing.pytest_plugin import temporary_database
from notification_service.adapters.tables import case_parties

from .platform_fixtures import Platform, eventually, hosted_platform, platform_settings

pytestmark = pytest.mark.integration

CASE = {
    "employee_id": "emp-1",
    "manager_id": "mgr-1",
    "org_unit": "warehouse",
    "first_absence_day": "2026-01-05",
    "began_with": "sick_note",
}


@pytest.fixture(params=["embedded", "kafka"])
async def platform(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, kafka_bootstrap: str
) -> AsyncIterator[Platform]:
    """The four services in-process: on SQLite + the embedded transport, or PostgreSQL + Kafka."""
    if request.param == "embedded":
        async with hosted_platform(platform_settings(tmp_path)) as hosted:
            yield hosted
        return
    async with temporary_database(postgres_url) as url:
        settings = platform_settings(tmp_path, database_url=url, kafka_bootstrap=kafka_bootstrap)
        async with hosted_platform(settings) as hosted:
            yield hosted


async def _count(platform: Platform, service: str, table, case_id: str, **where: str) -> int:  # type: ignore[no-untyped-def]
    engine = platform.runtimes[service].engine
    query = select(func.count()).select_from(table).where(table.c.case_id == case_id)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with engine.connect() as connection:
        return int((await connection.execute(query)).scalar_one())


async def test_a_command_reaches_every_consumer_once_in_one_trace(platform: Platform) -> None:
    response = await platform.clients["case"].post(
        "/v1/cases", json=CASE, headers={**platform.auth(), "Idempotency-Key": "k-1"}
    )
    assert response.status_code == 201, response.text
    case_id = response.json()["case_id"]

    for service, table, where in (
        ("deadline", deadline_cases, {}),
        ("notification", case_parties, {}),
        ("document", audit_entries, {"kind": "case.opened"}),
    ):

        async def seen(service: str = service, table=table, where=where) -> bool:  # type: ignore[no-untyped-def]
            return await _count(platform, service, table, case_id, **where) == 1

        await eventually(seen)

    # A retried request (same Idempotency-Key) returns the first answer and writes nothing new.
    retry = await platform.clients["case"].post(
        "/v1/cases", json=CASE, headers={**platform.auth(), "Idempotency-Key": "k-1"}
    )
    assert retry.json() == response.json()
    events = await platform.clients["case"].get(
        f"/v1/cases/{case_id}/events", headers=platform.auth()
    )
    assert [e["type"] for e in events.json()["events"]] == ["case.opened"]

    def services_in_trace() -> set[str]:
        spans = platform.spans.get_finished_spans()
        root = next(
            s
            for s in spans
            if s.attributes
            and s.attributes.get("http.route") == "/v1/cases"
            and s.kind.name == "SERVER"
        )
        trace_id = root.context.trace_id
        return {
            str(s.resource.attributes["service.name"])
            for s in spans
            if s.context.trace_id == trace_id
        }

    async def whole_trace() -> bool:
        return services_in_trace() >= {
            "case-service",
            "deadline-service",
            "notification-service",
            "document-service",
        }

    await eventually(whole_trace)


async def test_every_service_answers_health_and_readiness(platform: Platform) -> None:
    for key, client in platform.clients.items():
        assert (await client.get("/healthz")).status_code == 200, key

        async def ready(client=client) -> bool:  # type: ignore[no-untyped-def]
            return (await client.get("/readyz")).status_code == 200

        await eventually(ready)


async def test_every_read_of_a_case_lands_in_the_audit_trail(platform: Platform) -> None:
    """Access records travel like case events: store → (outbox → Kafka | log) → audit trail."""
    opened = await platform.clients["case"].post("/v1/cases", json=CASE, headers=platform.auth())
    case_id = opened.json()["case_id"]
    # No wait for the document service to know the case: a read that reaches it first is held
    # until the case's first event, then sealed like the others.
    manager = platform.auth(role="manager", sub="mgr-1")
    assert (await platform.clients["case"].get(f"/v1/cases/{case_id}", headers=manager)).is_success
    stranger = platform.auth(role="manager", sub="mgr-2")
    refused = await platform.clients["case"].get(f"/v1/cases/{case_id}", headers=stranger)
    assert refused.status_code == 403

    async def recorded() -> list[dict[str, object]]:
        engine = platform.runtimes["document"].engine
        query = select(audit_entries.c.content).where(
            audit_entries.c.case_id == case_id, audit_entries.c.kind == "access.recorded"
        )
        async with engine.connect() as connection:
            rows = [row.content for row in await connection.execute(query)]
        data = [row["data"] for row in rows]
        reads = [d for d in data if d["operation"] == "read"]
        return data if len(reads) == 2 else []

    sealed = await eventually(recorded)
    # The document service seals who accessed the case with the case's key, like the case's own
    # personal data: erasing the employee's data later erases this too.
    assert all(sealed_key_ids(d) for d in sealed)  # every one, the read that came first too
    vault = platform.runtimes["document"].vault
    keys = await vault.keys(set().union(*(sealed_key_ids(d) for d in sealed)))
    assert keys
    assert all(keys.values())
    data = [unseal_data(d, keys.get) for d in sealed]
    reads = {(d["subject"], d["action"]) for d in data if d["operation"] == "read"}
    assert reads == {("mgr-1", "read"), ("mgr-2", "denied")}
