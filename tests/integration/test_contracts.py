"""The event contract as integrators see it: ``asyncapi.yaml`` matches the code and is valid
AsyncAPI 3.0, and a consumer built on another client library (confluent-kafka) reads every
topic of a running platform and finds each record as the document and the schemas promise."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, Message
from jsonschema import Draft7Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012
from typer.testing import CliRunner

from naervaer.asyncapi import check_document
from naervaer.asyncapi_channels import CHANNELS
from naervaer.cli import app
from naervaer.clock import ControlledClock
from naervaer.contracts import CONTRACTS
from naervaer.service import discover_services
from naervaer.testing.pytest_plugin import temporary_database

from .platform_fixtures import Platform, eventually, hosted_platform, platform_settings

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
ASYNCAPI = REPO_ROOT / "asyncapi.yaml"
SCHEMAS = REPO_ROOT / "schemas"
# The official AsyncAPI 3.0.0 JSON Schema, vendored: no PyPI package ships it (see its README).
ASYNCAPI_SPEC = Path(__file__).parent / "vendor" / "asyncapi" / "asyncapi-3.0.0.schema.json"
# Keywords that mean the same in JSON Schema draft-07 (AsyncAPI's schema format) and 2020-12.
SHARED_KEYWORDS = {
    *("$id", "$schema", "$ref", "$defs", "title", "description", "default", "examples"),
    *("type", "enum", "const", "format", "pattern", "minimum", "maximum", "minLength"),
    *("maxLength", "minItems", "maxItems", "items", "properties", "required"),
    *("additionalProperties", "anyOf", "oneOf", "allOf", "x-event-type", "x-schema-version"),
    *("$comment", "x-personal-data"),
}


def load_asyncapi() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(ASYNCAPI.read_text())
    return document


def test_asyncapi_yaml_is_generated_from_the_code() -> None:
    assert check_document(CONTRACTS, ASYNCAPI, SCHEMAS) == []


def test_the_cli_writes_and_checks_the_document(tmp_path: Path) -> None:
    runner, out = CliRunner(), tmp_path / "asyncapi.yaml"
    options = ["--out", str(out), "--schemas", str(SCHEMAS)]
    assert runner.invoke(app, ["asyncapi", *options]).exit_code == 0
    assert runner.invoke(app, ["asyncapi", "--check", *options]).exit_code == 0
    out.write_text(out.read_text().replace("case.opened", "case.started"))
    drifted = runner.invoke(app, ["asyncapi", "--check", *options])
    assert drifted.exit_code == 1
    assert "differs from the code" in drifted.output


def test_asyncapi_yaml_is_valid_asyncapi_3() -> None:
    spec = json.loads(ASYNCAPI_SPEC.read_text())
    registry = Registry().with_resource(
        spec["$id"], Resource.from_contents(spec, default_specification=DRAFT7)
    )
    validator = Draft7Validator(spec, registry=registry.crawl())
    document = load_asyncapi()
    assert [error.message[:200] for error in validator.iter_errors(document)] == []
    broken = {**document, "operations": {"x": {"action": "publish"}}}  # AsyncAPI 2 wording
    assert not validator.is_valid(broken)


def test_every_reference_resolves() -> None:
    document = load_asyncapi()
    for ref in set(_refs(document)):
        if ref.startswith("#/"):
            target: Any = document
            for part in ref[2:].split("/"):
                target = target[part]
        else:
            assert (ASYNCAPI.parent / ref).is_file(), ref


def test_channels_are_the_topics_the_services_publish() -> None:
    published = {
        (topic, spec.name) for spec in discover_services().values() for topic in spec.publishes
    }
    documented = {(c.topic, producer) for c in CHANNELS for producer in c.producers}
    assert documented == published


def test_payload_schemas_use_only_keywords_draft_07_shares() -> None:
    used = {
        key for path in SCHEMAS.rglob("*.json") for key in _keywords(json.loads(path.read_text()))
    }
    assert used <= SHARED_KEYWORDS, used - SHARED_KEYWORDS


@dataclass
class Contract:
    """The published contract, ready to validate records: asyncapi.yaml plus schemas/."""

    document: dict[str, Any] = field(default_factory=load_asyncapi)
    uri: str = ASYNCAPI.as_uri()

    def __post_init__(self) -> None:
        resources = [(self.uri, Resource.from_contents(self.document, DRAFT202012))]
        for path in SCHEMAS.rglob("*.json"):
            schema = json.loads(path.read_text())
            resources += [
                (path.as_uri(), Resource.from_contents(schema)),
                (schema["$id"], Resource.from_contents(schema)),
            ]
        self.registry: Registry[Any] = Registry().with_resources(resources)

    def message_id(self, topic: str, envelope: dict[str, Any]) -> str:
        """The message of the channel ``topic`` (unprefixed) that documents this envelope."""
        message_id = f"{envelope['type']}.v{envelope['schemaversion']}"
        assert message_id in self.document["channels"][topic]["messages"], (topic, message_id)
        return message_id

    def errors(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = Draft202012Validator(
            schema, registry=self.registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(instance)]

    def check(self, topic: str, record: Message) -> dict[str, Any]:
        """Every promise the contract makes about one record; returns its envelope."""
        envelope: dict[str, Any] = json.loads(record.value())
        message = f"{self.uri}#/components/messages/{self.message_id(topic, envelope)}"
        headers = {name: value.decode() for name, value in record.headers() or []}
        key = record.key().decode()
        assert self.errors({"$ref": f"{message}/payload"}, envelope) == []
        assert self.errors({"$ref": f"{message}/headers"}, headers) == []
        assert self.errors({"$ref": f"{message}/bindings/kafka/key"}, key) == []
        assert self.errors({"$ref": envelope["dataschema"]}, envelope["data"]) == []
        assert (headers["ce_id"], headers["ce_type"]) == (envelope["id"], envelope["type"])
        assert headers["ce_tenant"] == envelope["tenant"]
        assert key == envelope["subject"] == envelope["streamid"]
        return envelope


@dataclass
class Integrator:
    """A NAV-style integration: its own consumer group, dedupe by CloudEvents id."""

    consumer: Consumer
    prefix: str
    records: dict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    seen: set[str] = field(default_factory=set)

    async def poll(self) -> None:
        for record in await asyncio.to_thread(self.consumer.consume, 500, 0.5):
            assert record.error() is None, record.error()
            self.records[record.topic().removeprefix(self.prefix)].append(record)

    def process(self, contract: Contract) -> dict[tuple[str, bytes], list[tuple[int, int]]]:
        """Check every record, skip redeliveries (at-least-once), then commit the offsets.

        Returns (partition, stream version) of each event per key, in the order read."""
        deliveries: dict[tuple[str, bytes], list[tuple[int, int]]] = defaultdict(list)
        for topic, records in self.records.items():
            for record in records:
                envelope = contract.check(topic, record)
                if envelope["id"] not in self.seen:
                    self.seen.add(envelope["id"])
                    deliveries[(topic, record.key())].append(
                        (record.partition(), envelope["streamversion"])
                    )
        self.consumer.commit(asynchronous=False)
        return deliveries

    def types(self, topic: str) -> list[str]:
        return [json.loads(r.value())["type"] for r in self.records[topic]]


@pytest.fixture
async def platform(
    tmp_path: Path, postgres_url: str, kafka_bootstrap: str
) -> AsyncIterator[Platform]:
    """The four services on PostgreSQL and Kafka, on Monday 2 March 2026 (deadlines have passed)."""
    ControlledClock(tmp_path / "clock.json").set(
        datetime.fromisoformat("2026-03-02T09:00:00+01:00")
    )
    async with temporary_database(postgres_url) as url:
        settings = platform_settings(tmp_path, database_url=url, kafka_bootstrap=kafka_bootstrap)
        async with hosted_platform(settings) as hosted:
            yield hosted


@pytest.fixture
def integrator(platform: Platform, kafka_bootstrap: str) -> Iterator[Integrator]:
    prefix = platform.settings.topic_prefix
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_bootstrap,
            "group.id": f"{prefix}nav-integration",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "session.timeout.ms": 3000,
            "heartbeat.interval.ms": 500,
        }
    )
    consumer.subscribe([f"{prefix}{channel.topic}" for channel in CHANNELS])
    try:
        yield Integrator(consumer, prefix)
    finally:
        consumer.close()


async def test_an_integrator_reads_every_topic_and_each_record_keeps_the_contract(
    platform: Platform, integrator: Integrator
) -> None:
    case_id = await run_a_case(platform)
    history = await platform.clients["case"].get(
        f"/v1/cases/{case_id}/events", headers=platform.auth()
    )
    case_event_ids = {event["id"] for event in history.json()["events"]}

    async def everything_arrived() -> bool:
        await integrator.poll()
        ids = {json.loads(r.value())["id"] for r in integrator.records["case-events"]}
        return case_event_ids <= ids and all(
            integrator.records[topic]
            for topic in ("deadline-events", "document-events", "access-events")
        )

    await eventually(everything_arrived, timeout_s=60)
    contract = Contract()
    for stream, deliveries in integrator.process(contract).items():
        partitions, versions = zip(*deliveries, strict=True)
        assert len(set(partitions)) == 1, stream  # one key, one partition, ...
        assert list(versions) == sorted(versions), stream  # ... and the stream's order
    assert {"case.opened", "employee.self_certification_used", "tenant.case_policy_changed"} <= set(
        integrator.types("case-events")
    )
    assert "document.version_stored" in integrator.types("document-events")
    opened = json.loads(integrator.records["case-events"][0].value())
    payload = f"{contract.uri}#/components/messages/{contract.message_id('case-events', opened)}"
    assert contract.errors({"$ref": f"{payload}/payload"}, {**opened, "data": {}}) != []


async def run_a_case(platform: Platform) -> str:
    """Open a case and record a few facts through the API, as an HR suite would."""
    client, employee = platform.clients["case"], "emp-7"
    hr = platform.auth()
    opened = await client.post(
        "/v1/cases",
        json={
            "employee_id": employee,
            "manager_id": "mgr-1",
            "org_unit": "warehouse",
            "first_absence_day": "2026-01-05",
        },
        headers={**hr, "Idempotency-Key": "open-1"},
    )
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    steps = [
        (
            "employee",
            employee,
            "self-certifications",
            {"period_start": "2026-01-05", "period_end": "2026-01-07"},
        ),
        ("manager", "mgr-1", "follow-up-plan", {"plan": PLAN}),
    ]
    for role, sub, path, body in steps:
        done = await client.post(
            f"/v1/cases/{case_id}/{path}", json=body, headers=platform.auth(role=role, sub=sub)
        )
        assert done.status_code == 200, (path, done.text)
    policy = await client.put(
        "/v1/tenants/acme/case-policy",
        json={"self_certification_quota": "ia", "quota_breach": "flag"},
        headers=hr,
    )
    assert policy.status_code == 200, policy.text
    assert (await client.get(f"/v1/cases/{case_id}", headers=hr)).status_code == 200
    return case_id


PLAN = {
    "typical_workday": "Picking orders, standing all day.",
    "tasks_that_can_still_be_done": "Desk registration work.",
    "tasks_that_can_not_be_done": "Heavy lifting.",
    "previous_facilitation": "None yet.",
    "planned_facilitation": "Desk tasks four hours a day.",
    "follow_up": "Weekly talk.",
    "evaluation_date": "2026-03-16",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "contact_person_full_name": "Kari Nordmann",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _keywords(schema: Any) -> Iterator[str]:
    """The keywords a schema uses (property and definition names are not keywords)."""
    if isinstance(schema, list):
        for item in schema:
            yield from _keywords(item)
    elif isinstance(schema, dict):
        for key, value in schema.items():
            yield key
            named = key in ("properties", "$defs") and isinstance(value, dict)
            for child in value.values() if named else [value]:
                yield from _keywords(child)
