"""A rebuild records one span per batch and none per SQL statement (issue 8: the statements'
spans cost a tenth of a replay), while the same engines trace statements outside it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text

from naervaer.messaging import rebuild
from naervaer.observability.tracing import instrument_engine

from .test_rebuild import TOPIC, CaseProjection

if TYPE_CHECKING:
    from shared.tests.messaging.conftest import LogSetup
    from shared.tests.messaging.kits import Kit

pytestmark = pytest.mark.integration


def _statement_spans(spans: tuple[ReadableSpan, ...]) -> list[str]:
    """The SQLAlchemy instrumentation's spans: they carry the database system."""
    return [s.name for s in spans if s.attributes and "db.system" in s.attributes]


async def test_a_rebuild_traces_batches_not_statements(kit: type[Kit], log_setup: LogSetup) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    db, store = log_setup.db, log_setup.store
    instrument_engine(db.engine, provider)  # the projection's: the replay's statements
    for case in ("case-1", "case-2", "case-3"):
        await log_setup.append(case, "case.opened", "case.noted")
    async with db.engine.connect() as connection:  # outside a rebuild statements are traced
        await connection.execute(text("SELECT 1"))
    assert _statement_spans(exporter.get_finished_spans())
    exporter.clear()

    projection = CaseProjection(kit.unique(f"traced-{log_setup.backend}"), db)
    tracer = provider.get_tracer("test")
    applied = await rebuild(
        projection, db.engine, db.tables, store, batch_size=4, topic=TOPIC, tracer=tracer
    )

    assert applied == 6
    spans = exporter.get_finished_spans()
    assert _statement_spans(spans) == []
    assert [s.name for s in spans] == ["rebuild batch", "rebuild batch"]
    counts = [(s.attributes or {}).get("messaging.batch.message_count") for s in spans]
    assert counts == [4, 2]
