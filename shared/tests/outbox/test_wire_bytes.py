"""The bytes the relay puts on the wire are those of the validated envelope, whatever the
shortcuts on the way (envelopes from trusted rows, serialising straight to bytes), and
consumers parse them back into the same envelope (``Envelope.model_validate_json``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, EventStoreTables, NewEvent
from naervaer.eventstore.model import envelope_from_row
from naervaer.outbox.messages import to_message
from naervaer.outbox.rows import OutboxRows
from naervaer.testing.envelopes import validated_envelope_from_row

SOURCE = "/case-service"
ROW: dict[str, Any] = {
    "global_position": 42,
    "event_id": uuid.UUID("8f9c2a9e-3c57-4f0e-9a43-3f1c5f0f6a11"),
    "stream_id": "case-1",
    "stream_version": 3,
    "stream_type": "case",
    "tenant": "acme",
    "type": "sick_note.received",
    "schema_version": 2,
    "data": {
        "grade": 60,
        "text": "Ærlig ✓",
        "period": {"from": "2026-01-05", "to": None},
        "ratio": 0.5,
        "flags": [True, False],
    },
    "recorded_at": datetime(2026, 1, 5, 8, 30, 0, 125, tzinfo=UTC),
    "correlation_id": "corr-1",
    "causation_id": None,
    "command_id": "cmd-1",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": None,
}
# Captured from the relay before envelopes skipped validation: the wire format, byte for byte.
GOLDEN = (
    '{"specversion":"1.0","id":"8f9c2a9e-3c57-4f0e-9a43-3f1c5f0f6a11","source":"/case-service",'
    '"type":"sick_note.received","subject":"case-1","time":"2026-01-05T08:30:00.000125Z",'
    '"datacontenttype":"application/json",'
    '"dataschema":"urn:naervaer:schema:sick_note.received:v2","data":{"grade":60,'
    '"text":"Ærlig ✓","period":{"from":"2026-01-05","to":null},"ratio":0.5,'
    '"flags":[true,false]},"tenant":"acme","streamid":"case-1","streamversion":3,'
    '"globalposition":42,"correlationid":"corr-1","schemaversion":2,'
    '"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}'
).encode()

TEXT = st.text(max_size=10)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)


def reference_bytes(row: Mapping[Any, Any]) -> bytes:
    """What the relay sent before: the validated envelope through ``model_dump_json``."""
    envelope = validated_envelope_from_row(row, SOURCE)
    return envelope.model_dump_json(exclude_none=True).encode()


def test_a_known_event_goes_on_the_wire_exactly_as_before() -> None:
    assert reference_bytes(ROW) == GOLDEN
    assert envelope_from_row(ROW, SOURCE).to_json_bytes() == GOLDEN
    assert Envelope.model_validate_json(GOLDEN) == validated_envelope_from_row(ROW, SOURCE)


@given(
    data=st.dictionaries(TEXT, JSON, max_size=5),
    optional=st.lists(st.none() | TEXT, min_size=4, max_size=4),
    global_position=st.none() | st.integers(1, 2**63 - 1),
    recorded_at=st.datetimes(timezones=st.just(UTC)),
)
def test_any_stored_row_serialises_to_the_validated_envelopes_bytes(
    data: dict[str, Any],
    optional: list[str | None],
    global_position: int | None,
    recorded_at: datetime,
) -> None:
    correlation, causation, traceparent, tracestate = optional
    row = {
        **ROW,
        "data": data,
        "global_position": global_position,
        "recorded_at": recorded_at,
        "correlation_id": correlation,
        "causation_id": causation,
        "traceparent": traceparent,
        "tracestate": tracestate,
    }
    wire = envelope_from_row(row, SOURCE).to_json_bytes()
    assert wire == reference_bytes(row)
    assert Envelope.model_validate_json(wire) == validated_envelope_from_row(row, SOURCE)


@pytest.mark.integration
async def test_the_relays_messages_carry_the_validated_envelopes_bytes(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[[AsyncEngine, EventStoreTables], EventStore],
    provider: TracerProvider,
) -> None:
    store = make_store(engine, tables)
    events = [
        NewEvent("case.opened", {"case_id": "c-1", "note": "Ærlig ✓"}),
        NewEvent("case.graded", {"periods": [{"grade": 40, "to": None}], "ratio": 0.4}, 2),
    ]
    await store.append("c-1", events, tenant="acme", expected_version=0, causation_id="cmd-0")
    outbox_rows = OutboxRows(tables, SOURCE, postgres=engine.dialect.name == "postgresql")
    async with engine.connect() as conn:
        pending = await outbox_rows.pending(conn, 10)
        stored = (await conn.execute(select(*tables.events.c))).mappings().all()
    span = provider.get_tracer("test").start_span("publish")
    messages = [to_message(row, span) for row in pending]
    assert len(messages) == len(stored) == 2
    by_position = {row["global_position"]: row for row in stored}
    for message, row in zip(messages, pending, strict=True):
        assert message.value == reference_bytes(by_position[row.position])
        assert Envelope.model_validate_json(message.value) == row.envelope
        assert dict(message.headers)["ce_id"] == str(row.envelope.id).encode()
    assert [row.envelope.time.utcoffset() for row in pending] == [timedelta(0)] * 2
