"""Every case-service command on PostgreSQL + Kafka, as a client sees it: through REST into the
store, then onto ``<prefix>case-events`` exactly as stored. Each event arrives once (by id; a
redelivery must be an identical copy), per key in stream-version order, as a CloudEvents
envelope whose ``data`` matches the committed JSON Schema. Refused commands leave no trace."""

from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from case_service.adapters.records import employee_stream
from case_service.adapters.tables import event_store
from case_service.api.examples import EXAMPLES
from naervaer.clock import ControlledClock
from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE, Envelope
from naervaer.privacy import KEYRING, unseal_data
from naervaer.topics import ACCESS_STREAM_TYPE

from .platform_fixtures import Platform, eventually, hosted_platform, platform_settings

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the rules judge dates against "today"
SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
TRACEPARENT = re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PEOPLE = [{"party": "employee"}, {"party": "manager"}]
EX = EXAMPLES  # the documented request examples, where they fit the story
DIAGNOSED_ISSUE = {"kind": "did_not_attend", "description": "Off sick with F32.1 again."}
DIAGNOSIS, STALE = "diagnosis_not_allowed", "precondition_failed"  # their problem types
STANDARD_POLICY = {"self_certification_quota": "standard", "quota_breach": "refuse"}


def period(start: str, end: str, grade: int = 100) -> dict[str, Any]:
    """A sick note's period, grade and kind (ordinary at 100 %, graded below)."""
    kind = "ordinary" if grade == 100 else "graded"
    return {"period_start": start, "period_end": end, "grade": grade, "kind": kind}


def meeting(meeting_id: str, number: int, starts_at: str, *party: str) -> dict[str, Any]:
    participants = PEOPLE + [{"party": p} for p in party]
    return {"meeting_id": meeting_id, "meeting_number": number, "starts_at": starts_at} | {
        "participants": participants
    }


# (role, path under the case, body) for every command on a case, in an order the rules accept.
CASE_STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("employee", "self-certifications", EX["RegisterSelfCertification"]),
    ("hr", "sick-notes", {"sick_note_id": "n-1"} | period("2026-01-08", "2026-01-25")),
    ("hr", "sick-notes/n-1/extend", EX["ExtendSickNoteBody"]),
    ("manager", "sick-notes", {"sick_note_id": "n-2"} | period("2026-02-09", "2026-02-22", 50)),
    ("hr", "sick-notes/n-2/change-grading", {"effective_from": "2026-02-16", "grade": 40}),
    ("hr", "sick-notes/n-2/correct", period("2026-02-09", "2026-02-22", grade=60)),
    ("hr", "sick-notes", {"sick_note_id": "n-3"} | period("2026-02-23", "2026-03-01")),
    ("hr", "sick-notes/n-3/cancel", EX["CancelSickNoteBody"]),
    ("manager", "follow-up-conversations", EX["HoldFollowUpConversation"]),
    ("manager", "follow-up-plan", EX["CreateFollowUpPlan"]),
    ("manager", "follow-up-plan/revise", EX["ReviseFollowUpPlan"]),
    ("hr", "follow-up-plan/share", EX["ShareFollowUpPlan"]),
    ("employee", "doctor-consent", EX["RecordDoctorConsent"]),
    ("hr", "dialogue-meeting-requests", {"meeting_number": 1, "requested_by": "employee"}),
    ("manager", "dialogue-meetings", meeting("m-1", 1, "2026-02-16T10:00:00+01:00", "doctor")),
    (
        "manager",
        "dialogue-meetings/m-1/hold",
        {"held_on": "2026-02-16", "participants": PEOPLE, "minutes": "Desk tasks continue."},
    ),
    ("nav", "dialogue-meetings", meeting("m-2", 2, "2026-07-01T10:00:00+02:00", "nav")),
    ("nav", "dialogue-meetings/m-2/cancel", EX["CancelDialogueMeetingBody"]),
    ("nav", "meeting-exceptions", EX["RecordMeetingException"]),
    ("manager", "adjustments", EX["RecordAdjustment"]),
    ("manager", "adjustments/adj-1/evaluate", EX["EvaluateAdjustmentBody"]),
    ("nav", "activity-requirement-assessments", EX["AssessActivityRequirement"]),
    ("hr", "expert-assistance-requests", EX["RequestExpertAssistance"]),
    ("nav", "expert-assistance-requests/eb-1/decide", EX["DecideExpertAssistanceBody"]),
    ("manager", "participation-issues", EX["RecordParticipationIssue"]),
    ("hr", "aap-applications", {"applied_on": "2026-02-20"}),
    ("hr", "employment-review", EX["DecideEmploymentReview"]),
    ("hr", "obligation-waivers", {"obligation": "aap_application", "reason": "Applied already."}),
    ("hr", "reassign-manager", {"manager_id": "mgr-2"}),
    ("manager", "return-to-work", EX["ReturnToWork"]),
    ("hr", "close", {"closed_on": "2026-03-02", "reason": "returned_to_work"}),
    ("hr", "reopen", {"absence_start": "2026-03-09", "began_with": "sick_note"}),
]


@pytest.fixture
async def platform(
    tmp_path: Path, fresh_database: str, kafka_bootstrap: str
) -> AsyncIterator[Platform]:
    """The four services in-process on a fresh PostgreSQL database and Kafka, clock at NOW."""
    ControlledClock(tmp_path / "clock.json").set(NOW)
    settings = platform_settings(
        tmp_path, database_url=fresh_database, kafka_bootstrap=kafka_bootstrap
    )
    async with hosted_platform(settings) as hosted:
        yield hosted


class Caller:
    """Sends commands as the right party of one tenant and remembers which routes it drove."""

    def __init__(self, platform: Platform, tenant: str, employee: str) -> None:
        self.platform, self.tenant, self.employee = platform, tenant, employee
        self.manager = "mgr-1"
        self.driven: list[tuple[str, str]] = []

    async def send(
        self,
        method: str,
        path: str,
        body: object = None,
        role: str = "hr",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sub = {"employee": self.employee, "manager": self.manager, "nav": "nav-1"}.get(role, "hr-1")
        auth = self.platform.auth(tenant=self.tenant, role=role, sub=sub)
        client = self.platform.clients["case"]
        response = await client.request(method, path, json=body, headers=auth | (headers or {}))
        if response.is_success:
            self.driven.append((method, path))
        return response


async def write_operations(client: httpx.AsyncClient) -> set[tuple[str, str]]:
    """(method, path template) of every write the service's OpenAPI document offers."""
    paths: dict[str, dict[str, Any]] = (await client.get("/openapi.json")).json()["paths"]
    return {(m.upper(), path) for path, item in paths.items() for m in item if m.upper() in WRITES}


def _privacy_lifecycle(path: str) -> bool:
    """Retention, legal hold and erasure: driven by tests/integration/test_privacy_lifecycle.py."""
    return path.startswith(("/v1/tenant/retention-policy", "/v1/privacy/")) or path.endswith(
        ("/legal-hold", "/erasure")
    )


def operation_of(operations: set[tuple[str, str]], method: str, path: str) -> tuple[str, str]:
    for candidate, template in operations:
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if candidate == method and re.fullmatch(pattern, path):
            return candidate, template
    raise AssertionError(f"{method} {path} is no operation of the OpenAPI document")


async def test_every_command_reaches_the_topic_once_in_order(platform: Platform) -> None:
    employee, tenant = f"emp-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    caller = Caller(platform, tenant, employee)
    case_id = await drive_every_command(caller)
    await refused_commands_leave_no_trace(caller, case_id)

    history = await caller.send("GET", f"/v1/cases/{case_id}/events")
    case_events = [(e["id"], e["type"], e["data"]) for e in history.json()["events"]]
    assert len(case_events) == 1 + len(CASE_STEPS)
    published, duplicates = await published_events(platform)
    vault = platform.runtimes["case"].vault
    streams = {case_id, employee_stream(vault, tenant, employee), f"tenant:{tenant}"}
    assert streams <= set(published)
    assert employee not in str([e.data for es in published.values() for e in es])  # sealed
    await KEYRING.load(published[case_id], vault)
    opened = [(str(e.id), e.type, unseal_data(e.data, KEYRING.lookup)) for e in published[case_id]]
    assert opened == case_events

    store = platform.runtimes["case"].store
    assert store is not None
    stored = await store.read_all(0, 100_000, exclude_stream_types=(ACCESS_STREAM_TYPE,))
    arrived = sorted(e.id for es in published.values() for e in es)
    assert arrived == sorted(e.id for e in stored), f"{duplicates} redeliveries aside"
    for key, envelopes in published.items():
        assert envelopes == await store.read_stream(key), key  # per key, in version order
        assert [e.streamversion for e in envelopes] == list(range(1, len(envelopes) + 1))


async def drive_every_command(caller: Caller) -> str:
    opened = await caller.send(
        "POST",
        "/v1/cases",
        {"employee_id": caller.employee, "manager_id": "mgr-1", "org_unit": "warehouse"}
        | {"first_absence_day": "2026-01-05"},
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    for version, (role, path, body) in enumerate(CASE_STEPS, start=2):
        response = await caller.send("POST", f"/v1/cases/{case_id}/{path}", body, role)
        assert response.json() == {"case_id": case_id, "version": version}, (path, response.text)
        caller.manager = "mgr-2" if path == "reassign-manager" else caller.manager
    right = f"/v1/employees/{caller.employee}/self-certification"
    withdrawn = await caller.send("POST", f"{right}/withdraw", {"reason": "Misuse on Mondays."})
    assert withdrawn.json()["version"] == 2, withdrawn.text  # 1: the self-certification used
    restored = await caller.send("POST", f"{right}/restore", headers={"If-Match": '"2"'})
    assert restored.json()["version"] == 3, restored.text
    policy = {"self_certification_quota": "ia", "quota_breach": "flag"}
    changed = await caller.send("PUT", f"/v1/tenants/{caller.tenant}/case-policy", policy)
    assert changed.json()["version"] == 1, changed.text
    writes = await write_operations(caller.platform.clients["case"])
    writes = {(method, path) for method, path in writes if not _privacy_lifecycle(path)}
    assert {operation_of(writes, *sent) for sent in caller.driven} == writes
    return case_id


async def refused_commands_leave_no_trace(caller: Caller, case_id: str) -> None:
    """A diagnosis in a body (any route) or a stale If-Match: refused, nothing recorded."""
    store = caller.platform.runtimes["case"].store
    assert store is not None
    before = await store.read_all(0, 100_000, exclude_stream_types=(ACCESS_STREAM_TYPE,))
    right = f"/v1/employees/{caller.employee}/self-certification/withdraw"
    policy = f"/v1/tenants/{caller.tenant}/case-policy"
    stale = {"If-Match": '"3"'}
    refusals: list[tuple[str, str, str, dict[str, Any], dict[str, str]]] = [
        (DIAGNOSIS, "POST", "/v1/cases", {"employee_id": "e-1", "diagnosis": "x"}, {}),
        (DIAGNOSIS, "POST", f"/v1/cases/{case_id}/participation-issues", DIAGNOSED_ISSUE, {}),
        (DIAGNOSIS, "POST", right, {"reason": "Misuse; the note says M54."}, {}),
        (STALE, "POST", f"/v1/cases/{case_id}/reassign-manager", EX["ReassignManager"], stale),
        (STALE, "PUT", policy, STANDARD_POLICY, {"If-Match": '"0"'}),  # it is at 1
    ]
    for problem, method, path, body, headers in refusals:
        response = await caller.send(method, path, body, headers=headers)
        assert response.status_code == {DIAGNOSIS: 422, STALE: 412}[problem], path
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.json()["type"] == f"urn:naervaer:problem:{problem}", response.text
    assert await store.read_all(0, 100_000, exclude_stream_types=(ACCESS_STREAM_TYPE,)) == before


async def published_events(platform: Platform) -> tuple[dict[str, list[Envelope]], int]:
    """Every event on case-events by key, first copies in arrival order; and the repeats.

    Read once the outbox is drained, up to the end offsets: whatever the relay ever sends.
    """
    assert platform.settings.kafka_bootstrap is not None
    await eventually(lambda: outbox_drained(platform))
    topic = f"{platform.settings.topic_prefix}case-events"
    records = await read_to_end(platform.settings.kafka_bootstrap, topic)
    first: dict[uuid.UUID, tuple[Envelope, bytes]] = {}
    by_key: dict[str, list[Envelope]] = defaultdict(list)
    for record in records:
        envelope = checked(record)
        if envelope.id in first:
            assert record.value == first[envelope.id][1], "a redelivery differs from the first"
            continue
        first[envelope.id] = (envelope, record.value)
        by_key[envelope.streamid].append(envelope)
    return dict(by_key), len(records) - len(first)


async def outbox_drained(platform: Platform) -> bool:
    outbox = event_store.outbox
    query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    async with platform.runtimes["case"].engine.connect() as connection:
        return await connection.scalar(query) == 0


async def read_to_end(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[ConsumerRecord]:
    """All records of ``topic`` from the earliest offset, read in a group of its own."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"check-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=3000,
        heartbeat_interval_ms=500,
    )
    await consumer.start()
    try:
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout_s
        while not await at_end(consumer, topic):
            assert time.monotonic() < deadline, f"{topic} not read to its end in {timeout_s}s"
            batches = await consumer.getmany(timeout_ms=200)
            records.extend(record for batch in batches.values() for record in batch)
        return records
    finally:
        await consumer.stop()


async def at_end(consumer: AIOKafkaConsumer, topic: str) -> bool:
    assigned: set[TopicPartition] = consumer.assignment()
    if not assigned or len(assigned) != len(consumer.partitions_for_topic(topic) or ()):
        return False
    ends = await consumer.end_offsets(list(assigned))
    positions = {partition: await consumer.position(partition) for partition in assigned}
    return all(positions[partition] >= end for partition, end in ends.items())


def checked(record: ConsumerRecord) -> Envelope:
    """The record's envelope, after checking it is CloudEvents as the contract says."""
    document = json.loads(record.value)
    validator("envelope.json").validate(document)
    envelope = Envelope.model_validate(document)
    headers = {name: value.decode() for name, value in record.headers}
    assert headers["content-type"] == CLOUDEVENTS_CONTENT_TYPE
    assert (headers["ce_id"], headers["ce_type"]) == (str(envelope.id), envelope.type)
    assert TRACEPARENT.fullmatch(headers["traceparent"]), headers
    assert record.key.decode() == envelope.streamid == envelope.subject
    payload = f"{envelope.type}/v{envelope.schemaversion}.json"
    assert envelope.dataschema == committed(payload)["$id"]
    validator(payload).validate(envelope.data)
    return envelope


@functools.cache
def committed(relative: str) -> dict[str, Any]:
    """The committed JSON Schema ``schemas/<relative>``."""
    schema: dict[str, Any] = json.loads((SCHEMAS / relative).read_text())
    return schema


def validator(relative: str) -> Draft202012Validator:
    """A validator of a committed schema, formats (dates) included."""
    return Draft202012Validator(
        committed(relative), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
