"""The privacy lifecycle across the four services on PostgreSQL + Kafka (crypto-shredding).

One employee's case is written with personal texts only this test knows. While the case lives,
those texts are sealed with the employee's key in the event store, on every topic and in the
audit trail, and the GDPR art. 15 export of every service returns them in clear. Erasure is
refused while the case is open and under a legal hold; after the tenant's retention period it
destroys the key, every service deletes what it derived, and then a scan of every table of every
schema and of every message on every topic finds none of the texts — while the audit chain
still verifies and the store still reads (the personal fields as ``[erased]``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from case_service.api.examples import EXAMPLES
from naervaer.clock import ControlledClock
from naervaer.contracts import CONTRACTS
from naervaer.privacy import ERASED, KEYRING

from .platform_fixtures import Platform, eventually, hosted_platform, platform_settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SERVICES = ("case", "deadline", "notification", "document")


@pytest.fixture
async def platform(
    tmp_path: Path, fresh_database: str, kafka_bootstrap: str
) -> AsyncIterator[Platform]:
    ControlledClock(tmp_path / "clock.json").set(NOW)
    settings = platform_settings(
        tmp_path, database_url=fresh_database, kafka_bootstrap=kafka_bootstrap
    )
    async with hosted_platform(settings) as hosted:
        yield hosted


class Story:
    """One tenant, one employee, texts nobody else writes."""

    def __init__(self, platform: Platform) -> None:
        marker = uuid.uuid4().hex[:10]
        self.platform = platform
        self.tenant = f"t-{marker}"
        self.employee = f"emp-{marker}"
        self.secrets = {
            "agreed": f"Agreed-{marker}: desk tasks, talk again soon.",
            "contact": f"Kari Nordmann-{marker}",
            "reason": f"Dispute-{marker} about the follow-up.",
        }

    def auth(self, role: str = "hr", sub: str = "hr-1") -> dict[str, str]:
        return self.platform.auth(tenant=self.tenant, role=role, sub=sub)

    async def call(
        self, service: str, method: str, path: str, body: object = None, **who: str
    ) -> Any:
        client = self.platform.clients[service]
        return await client.request(method, path, json=body, headers=self.auth(**who))

    async def ok(self, service: str, method: str, path: str, body: object = None) -> Any:
        response = await self.call(service, method, path, body)
        assert response.is_success, (method, path, response.status_code, response.text)
        return response.json()

    async def export(self, service: str) -> str:
        return str(await self.ok(service, "GET", f"/v1/employees/{self.employee}/personal-data"))


async def write_the_case(story: Story) -> str:
    opened = await story.ok(
        "case",
        "POST",
        "/v1/cases",
        {"employee_id": story.employee, "manager_id": "mgr-1", "org_unit": "warehouse"}
        | {"first_absence_day": "2026-01-05"},
    )
    case_id: str = opened["case_id"]
    steps: list[tuple[str, dict[str, Any]]] = [
        (
            "sick-notes",
            {"sick_note_id": "n-1", "period_start": "2026-01-05", "period_end": "2026-02-27"}
            | {"grade": 100, "kind": "ordinary"},
        ),
        (
            "follow-up-conversations",
            EXAMPLES["HoldFollowUpConversation"] | {"agreed": story.secrets["agreed"]},
        ),
        (
            "follow-up-plan",
            {
                "plan": EXAMPLES["CreateFollowUpPlan"]["plan"]
                | {"contact_person_full_name": story.secrets["contact"]}
            },
        ),
    ]
    for path, body in steps:
        await story.ok("case", "POST", f"/v1/cases/{case_id}/{path}", body)
    return case_id


async def close_the_case(story: Story, case_id: str) -> None:
    await story.ok(
        "case",
        "POST",
        f"/v1/cases/{case_id}/return-to-work",
        {"returned_on": "2026-03-02", "extent": "full", "working_percent": 100},
    )
    await story.ok(
        "case",
        "POST",
        f"/v1/cases/{case_id}/close",
        {"closed_on": "2026-03-02", "reason": "returned_to_work"},
    )


async def every_service_knows(story: Story, text_: str) -> bool:
    exports = [await story.export(service) for service in ("case", "document")]
    return all(text_ in export for export in exports)


async def test_erasure_after_retention_destroys_personal_data_everywhere(
    platform: Platform, fresh_database: str, kafka_bootstrap: str
) -> None:
    story = Story(platform)
    case_id = await write_the_case(story)
    await eventually(lambda: every_service_knows(story, story.secrets["contact"]))
    timeline = f"/v1/cases/{case_id}/timeline"
    await eventually(lambda: _answers(story, "deadline", timeline))

    # Sealed from the start: in the store, on the topics and in the audit trail.
    assert not await database_holds(fresh_database, story.secrets["agreed"])
    messages = await topic_messages(kafka_bootstrap, platform.settings.topic_prefix)
    assert any(b"pd1." in message for message in messages)
    assert not [m for m in messages if story.secrets["agreed"].encode() in m]

    # The export is for HR and the employee themself, nobody else.
    path = f"/v1/employees/{story.employee}/personal-data"
    for service in SERVICES:
        own = await story.call(service, "GET", path, role="employee", sub=story.employee)
        assert own.status_code == 200, (service, own.text)
        for role, sub in (("manager", "mgr-1"), ("auditor", "aud-1"), ("employee", "emp-x")):
            refused = await story.call(service, "GET", path, role=role, sub=sub)
            assert refused.status_code == 403, (service, role, refused.text)

    erasure = f"/v1/employees/{story.employee}/erasure"
    still_open = await story.call("case", "POST", erasure)
    assert still_open.status_code == 409, still_open.text
    assert still_open.headers["content-type"].startswith("application/problem+json")

    await close_the_case(story, case_id)
    retention = f"/v1/employees/{story.employee}/retention"

    async def closed_in_the_read_model() -> bool:  # erasure decides on the case summaries
        status = await story.ok("case", "GET", retention)
        return not status["open_cases"] and bool(status["closed_cases"])

    await eventually(closed_in_the_read_model)
    await story.ok("case", "PUT", "/v1/tenant/retention-policy", {"months_after_close": 0})
    hold = f"/v1/employees/{story.employee}/legal-hold"
    await story.ok("case", "PUT", hold, {"reason": story.secrets["reason"]})
    held = await story.call("case", "POST", erasure)
    assert held.status_code == 409, held.text
    assert "hold" in held.text.lower()
    await story.ok("case", "DELETE", hold)

    erased = await story.ok("case", "POST", erasure)
    assert erased["case_ids"] == [case_id]

    async def everything_gone() -> bool:
        exports = [await story.export(service) for service in SERVICES]
        return not any(secret in export for export in exports for secret in story.secrets.values())

    await eventually(everything_gone)
    await eventually(lambda: _all_erased(story, fresh_database))

    messages = await topic_messages(kafka_bootstrap, platform.settings.topic_prefix)
    for secret in story.secrets.values():
        assert not [m for m in messages if secret.encode() in m], secret

    verdict = await story.ok("document", "GET", "/v1/audit/verify")
    assert verdict["ok"] is True, verdict
    assert verdict["entries_checked"] > 10, verdict  # case events, document events, accesses

    store = platform.runtimes["case"].store
    assert store is not None
    envelopes = await store.read_stream(case_id)
    await KEYRING.load(envelopes, platform.runtimes["case"].vault)
    opened = CONTRACTS.payload(envelopes[0])
    assert opened.model_dump()["employee_id"] == ERASED


async def _answers(story: Story, service: str, path: str) -> bool:
    response = await story.call(service, "GET", path)
    return bool(response.status_code == 200)


async def _all_erased(story: Story, database_url: str) -> bool:
    for secret in story.secrets.values():
        if await database_holds(database_url, secret):
            return False
    return True


async def database_holds(database_url: str, needle: str) -> list[str]:
    """Every table of every schema whose rows, as text, contain ``needle``."""
    engine = create_async_engine(database_url)
    found: list[str] = []
    try:
        async with engine.connect() as conn:
            tables = (
                await conn.execute(
                    text(
                        "SELECT table_schema, table_name FROM information_schema.tables "
                        "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN "
                        "('pg_catalog', 'information_schema')"
                    )
                )
            ).all()
            for schema, table in tables:
                hit = await conn.execute(
                    text(
                        f'SELECT 1 FROM "{schema}"."{table}" AS t '
                        "WHERE strpos(t::text, :needle) > 0 LIMIT 1"
                    ),
                    {"needle": needle},
                )
                if hit.first() is not None:
                    found.append(f"{schema}.{table}")
    finally:
        await engine.dispose()
    return found


async def topic_messages(bootstrap: str, prefix: str) -> list[bytes]:
    """The raw value of every message on every topic of this installation, read to the end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(t for t in await consumer.topics() if t.startswith(prefix))
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        values: list[bytes] = []
        deadline = time.monotonic() + 30
        while any([await consumer.position(p) < end for p, end in ends.items()]):
            assert time.monotonic() < deadline, "topics not read to their end in 30 s"
            batch = await consumer.getmany(timeout_ms=200)
            values.extend(r.value for records in batch.values() for r in records if r.value)
        return values
    finally:
        await consumer.stop()
