"""The system as one (issue 7): the four services as separate processes on PostgreSQL and Kafka.

Each service runs as ``naervaer serve <key> --no-migrate`` after one ``naervaer migrate``, in
development mode so the data folder's dev clock and dev tokens work (the folder is shared, so
moving the clock moves every process). The year of one case from ``year_of_a_case`` is played
through HTTP only and checked at every step and at the end. Every process exports its spans
over OTLP/HTTP to a receiver in the test, which must show one trace running from a command's
HTTP request in the case service through Kafka into the consumers of the three others. Last,
one service is restarted, one killed, and the rest must stop cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

from naervaer.auth.devkeys import mint_token
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings
from naervaer.testing.otlp import OtlpReceiver, ReceivedSpan
from naervaer.testing.processes import QUICK_TIMINGS, ProcessConfig, ServiceProcesses
from naervaer.testing.pytest_plugin import temporary_database

from .year_of_a_case.api import Endpoints, TokenSource, until
from .year_of_a_case.checks import check_the_year
from .year_of_a_case.driver import CaseDriver
from .year_of_a_case.embedded import DeadlineStoreLog
from .year_of_a_case.receivers import SmtpServer, WebhookReceiver
from .year_of_a_case.scenario import LAST_WEEK, play

pytestmark = pytest.mark.integration

START = date(2026, 1, 5)  # S, a Monday
TENANT = "acme"
SERVICE_NAMES = {"case-service", "deadline-service", "notification-service", "document-service"}
CASE_EVENTS = ".case-events"
HOLD_ROUTE = "POST /v1/cases/{case_id}/dialogue-meetings/{meeting_id}/hold"
STEP_TIMEOUT_S = 30.0  # per condition: Kafka adds a few hops to what the embedded default does


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret="hr-suite-shared-secret-0123456789") as receiver:
        yield receiver


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
async def database(postgres_url: str) -> AsyncIterator[str]:
    async with temporary_database(postgres_url) as url:
        yield url


def process_config(
    data_dir: Path, database: str, kafka: str, smtp: SmtpServer, otlp: OtlpReceiver
) -> ProcessConfig:
    env = {
        **QUICK_TIMINGS,
        "NAERVAER_ENVIRONMENT": "development",
        "NAERVAER_TOPIC_PREFIX": f"sys{uuid.uuid4().hex[:8]}.",
        "NAERVAER_NOTIFICATION_SMTP_HOST": smtp.host,
        "NAERVAER_NOTIFICATION_SMTP_PORT": str(smtp.port),
        "NAERVAER_NOTIFICATION_SMTP_SECURITY": "none",
        "NAERVAER_NOTIFICATION_SMTP_TIMEOUT_S": "5",
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    return ProcessConfig(database, kafka, data_dir, env=env)


async def test_a_year_of_one_case_across_four_processes_in_one_trace_per_command(
    tmp_path: Path,
    database: str,
    kafka_bootstrap: str,
    smtp: SmtpServer,
    webhooks: WebhookReceiver,
    otlp: OtlpReceiver,
) -> None:
    data_dir = tmp_path / "data"
    settings = PlatformSettings(
        data_dir=data_dir, database_url=database, kafka_bootstrap=kafka_bootstrap
    )
    # Minted before the services start, so the dev key exists before anyone reads it.
    token = tokens(data_dir)
    token("hr", "hr-1")
    deadline_log = DeadlineStoreLog(settings, discover_services()["deadline"])
    system = ServiceProcesses(process_config(data_dir, database, kafka_bootstrap, smtp, otlp))
    try:
        async with system, Endpoints.over_http(system.base_urls) as endpoints:
            driver = CaseDriver(
                endpoints,
                token,
                start=START,
                smtp=smtp,
                webhooks=webhooks,
                deadline_log=deadline_log,
                timeout_s=STEP_TIMEOUT_S,
            )
            await play(driver, range(LAST_WEEK + 1))
            counts = await check_the_year(driver, tmp_path)
            assert counts["messages"] == len(smtp.emails) + len(webhooks.received)
            await check_one_trace_per_command(otlp)
            await check_restart_kill_and_stop(system)
    except BaseException as error:
        error.add_note(f"service logs:\n{system.tails()}")
        raise
    finally:
        system.close()
        await deadline_log.close()


async def check_restart_kill_and_stop(system: ServiceProcesses) -> None:
    """A restarted service is ready again on its port, a killed one is gone, and SIGTERM
    shuts the others down cleanly (exit code 0: consumers, relay and workers stopped)."""
    port = system.services["notification"].port
    assert await system.restart("notification") == 0
    assert system.services["notification"].running
    assert system.services["notification"].port == port
    system.kill("document")
    assert not system.services["document"].running
    codes = await asyncio.gather(
        *(system.stop(key) for key in ("case", "deadline", "notification"))
    )
    assert codes == [0, 0, 0], system.tails()


def tokens(data_dir: Path) -> TokenSource:
    """Bearer tokens of the scenario's tenant, signed with the shared data folder's dev key."""

    def mint(role: str, subject: str) -> str:
        return mint_token(data_dir, tenant=TENANT, roles=[role], sub=subject)

    return mint


async def check_one_trace_per_command(otlp: OtlpReceiver) -> None:
    """Each dialogue meeting's minutes (POST …/hold): one trace from the case service's HTTP
    request through its outbox relay and Kafka into a consumer span in each other service."""

    async def both_holds_exported() -> str | None:
        found = len(server_spans(otlp, HOLD_ROUTE))
        return None if found == 2 else f"{found} server spans of {HOLD_ROUTE}"

    await until(both_holds_exported, what="the hold requests' spans", timeout_s=STEP_TIMEOUT_S)
    for request in server_spans(otlp, HOLD_ROUTE):

        async def linked(request: ReceivedSpan = request) -> str | None:
            return trace_gap(otlp, request)

        what = f"one trace of {request.name} across the services"
        await until(linked, what=what, timeout_s=STEP_TIMEOUT_S)


def server_spans(otlp: OtlpReceiver, name: str) -> list[ReceivedSpan]:
    return otlp.find(
        lambda s: s.service == "case-service" and s.kind == "SERVER" and s.name == name
    )


def trace_gap(otlp: OtlpReceiver, request: ReceivedSpan) -> str | None:
    """What the trace of ``request`` still lacks (None: complete and linked)."""
    spans = otlp.trace(request.trace_id)
    by_id = {span.span_id: span for span in spans}
    consumers = [
        s
        for s in spans
        if s.kind == "CONSUMER" and s.service != "case-service" and s.name.endswith(CASE_EVENTS)
    ]
    missing = SERVICE_NAMES - {"case-service"} - {s.service for s in consumers}
    if missing:
        return f"no consumer span yet from {sorted(missing)}"
    for consumer in consumers:
        chain = ancestry(consumer, by_id)
        if chain[-1] != request:
            return f"{consumer.service} {consumer.name}: parents stop at {chain[-1].name}"
        publishers = [s for s in chain if s.service == "case-service" and s.kind == "PRODUCER"]
        if not publishers:
            return f"{consumer.service} {consumer.name} does not descend from an outbox publish"
    assert {span.service for span in spans} == SERVICE_NAMES
    return None


def ancestry(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[ReceivedSpan]:
    """``span``, its parent, its parent's parent … as far as the received spans reach."""
    chain = [span]
    while chain[-1].parent_id is not None and chain[-1].parent_id in by_id:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def test_the_otlp_receiver_keeps_what_the_sdk_exporter_sends(otlp: OtlpReceiver) -> None:
    """The receiver decodes real OTLP/HTTP exports (also gzip-compressed): service, ids, kind."""
    spans = []
    for compression in (Compression.NoCompression, Compression.Gzip):
        provider = TracerProvider(resource=Resource.create({"service.name": "probe-service"}))
        exporter = OTLPSpanExporter(f"{otlp.endpoint}/v1/traces", compression=compression)
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer = provider.get_tracer("probe")
        with (
            tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent,
            tracer.start_as_current_span("child", kind=SpanKind.PRODUCER) as child,
        ):
            child.set_attribute("messaging.destination.name", "case-events")
        provider.shutdown()
        spans.append((parent.get_span_context(), child.get_span_context()))
    received = {span.span_id: span for span in otlp.spans}
    assert len(received) == 4
    for parent_context, child_context in spans:
        parent_id, child_id = f"{parent_context.span_id:016x}", f"{child_context.span_id:016x}"
        child_span = received[child_id]
        assert child_span.trace_id == f"{child_context.trace_id:032x}"
        assert (child_span.parent_id, child_span.kind, child_span.name) == (
            parent_id,
            "PRODUCER",
            "child",
        )
        assert child_span.attributes == {"messaging.destination.name": "case-events"}
        assert (received[parent_id].parent_id, received[parent_id].kind) == (None, "SERVER")
    assert {span.service for span in received.values()} == {"probe-service"}
