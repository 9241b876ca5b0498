"""Log lines: JSON on stdout, trace and request context attached, secrets never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider

from naervaer.observability.logging import (
    REDACTED,
    bind_service,
    configure_logging,
    get_logger,
    log_context,
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_line_inside_a_span_carries_trace_and_bound_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO", fmt="json")
    tracer = TracerProvider().get_tracer("test")
    with (
        tracer.start_as_current_span("work") as span,
        log_context(service="case-service", tenant="910825518", case_id="case-1"),
        log_context(correlation_id="corr-1"),
    ):
        get_logger("naervaer.test").info("sick note received", grade=50)
    [line] = json_lines(capsys.readouterr().out)
    context = span.get_span_context()
    assert line["trace_id"] == format(context.trace_id, "032x")
    assert line["span_id"] == format(context.span_id, "016x")
    assert line["event"] == "sick note received"
    assert line["level"] == "info"
    assert line["logger"] == "naervaer.test"
    assert line["grade"] == 50
    assert (line["service"], line["tenant"], line["case_id"]) == (
        "case-service",
        "910825518",
        "case-1",
    )
    assert line["correlation_id"] == "corr-1"
    stamp = datetime.fromisoformat(line["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)


def test_line_outside_a_span_has_no_trace_ids_and_context_ends_with_its_block(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    log = get_logger("naervaer.test")
    with log_context(tenant="t-1"):
        log.info("inside")
    log.info("after")
    inside, after = json_lines(capsys.readouterr().out)
    assert "trace_id" not in inside
    assert inside["tenant"] == "t-1"
    assert "tenant" not in after


def test_secrets_are_redacted_in_structlog_and_stdlib_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    get_logger("naervaer.test").info(
        "calling out",
        token="eyJhbGciOi.payload.sig",
        headers={"Authorization": "Bearer abc.def", "Accept": "application/json"},
        raw_headers=[(b"cookie", b"session=s3cr3t"), (b"host", b"example")],
        db_password="hunter2",
        X_Api_Key="k-123",
    )
    logging.getLogger("aiokafka").warning("retrying with Authorization: Bearer zzz.yyy")
    out = capsys.readouterr().out
    for secret in ("eyJhbGciOi", "abc.def", "s3cr3t", "hunter2", "k-123", "zzz.yyy"):
        assert secret not in out
    structured, stdlib = json_lines(out)
    assert structured["token"] == REDACTED
    assert structured["headers"] == {"Authorization": REDACTED, "Accept": "application/json"}
    assert structured["db_password"] == REDACTED
    assert stdlib["logger"] == "aiokafka"
    assert stdlib["event"] == f"retrying with Authorization: Bearer {REDACTED}"


def test_stdlib_loggers_share_the_format_and_exceptions_are_rendered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    with log_context(service="deadline-service"):
        logging.getLogger("uvicorn.error").info("Started server process")
        try:
            raise ValueError("boom")
        except ValueError:
            get_logger("naervaer.test").exception("handler failed")
    started, failed = json_lines(capsys.readouterr().out)
    assert started["logger"] == "uvicorn.error"
    assert started["service"] == "deadline-service"
    assert started["level"] == "info"
    assert failed["level"] == "error"
    assert "ValueError: boom" in failed["exception"]


def test_configure_is_idempotent_and_honours_the_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="INFO")
    configure_logging(level="WARNING")
    log = get_logger("naervaer.test")
    log.info("hidden")
    log.warning("shown")
    lines = json_lines(capsys.readouterr().out)
    assert [line["event"] for line in lines] == ["shown"]


def test_console_format_is_for_humans(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="console")
    get_logger("naervaer.test").info("readable", password="hunter2")
    out = capsys.readouterr().out
    assert "readable" in out
    assert "hunter2" not in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.splitlines()[0])


async def test_service_bound_in_a_task_stays_in_that_task(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    configure_logging()
    log = get_logger("naervaer.test")

    async def serve(service: str) -> None:
        bind_service(service)
        await asyncio.sleep(0)  # let the other task bind its own name in between
        log.info("tick")

    await asyncio.gather(serve("case-service"), serve("document-service"))
    log.info("outside")
    services = [line.get("service") for line in json_lines(capsys.readouterr().out)]
    assert set(services[:2]) == {"case-service", "document-service"}
    assert services[2] is None
