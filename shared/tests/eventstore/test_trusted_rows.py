"""Stored rows become envelopes without validation (``envelope_from_row``), and the result is
the envelope the validating constructor builds from the same row: equal, with the same field
types, the same fields set, the same JSON. Rows of every shape (NULL optional columns, nested
and non-ASCII payloads, any time zone written) are written to the real tables on both
backends and read back through SQLAlchemy and, on PostgreSQL, straight on asyncpg."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, EventStoreTables, NewEvent
from naervaer.eventstore.model import AppendBatch, envelope_from_row, pending_events
from naervaer.testing.envelopes import validated_envelope_from_row

pytestmark = pytest.mark.integration

SOURCE = "/test-service"
# PostgreSQL text and jsonb refuse NUL; surrogates are not text at all.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9))])
ROW = st.fixed_dictionaries(
    {
        "tenant": TEXT,
        "type": TEXT.map(lambda t: f"case.{t}"),
        "schema_version": st.integers(1, 2**31 - 1),
        "data": st.dictionaries(TEXT, JSON_VALUES, max_size=5),
        "recorded_at": st.datetimes(datetime(1970, 1, 2), datetime(2200, 1, 1), timezones=OFFSETS),
        "correlation_id": st.none() | TEXT,
        "causation_id": st.none() | TEXT,
        "command_id": st.none() | TEXT,
        "traceparent": st.none() | TEXT,
        "tracestate": st.none() | TEXT,
    }
)
# Positions and stream ids never repeat within a test's database, whatever hypothesis draws.
_POSITIONS = itertools.count(1)


def assert_same_envelope(fast: Envelope, row: Mapping[Any, Any]) -> None:
    """``fast`` is, in every respect a consumer can see, the validated envelope of ``row``."""
    reference = validated_envelope_from_row(row, SOURCE)
    assert type(fast) is Envelope
    assert fast == reference
    assert list(fast.__dict__.items()) == list(reference.__dict__.items())
    assert [type(v) for v in fast.__dict__.values()] == [
        type(v) for v in reference.__dict__.values()
    ]
    for slot in BaseModel.__slots__:  # __dict__, the fields set, extra, private: the state
        assert getattr(fast, slot) == getattr(reference, slot), slot
    assert fast.to_json_bytes() == reference.to_json_bytes()
    assert repr(fast) == repr(reference)
    assert fast.model_copy(update={"tenant": "x"}) == reference.model_copy(update={"tenant": "x"})
    assert fast.time.utcoffset() == timedelta(0)
    assert fast.data is not row["data"]  # the envelope owns its payload, as validation gives


def stream_rows(drawn: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Whole ``events`` rows of one new stream, versions 1..n."""
    stream_id = f"s-{uuid.uuid4()}"
    return [
        {
            **row,
            "global_position": next(_POSITIONS),
            "event_id": uuid.uuid4(),
            "stream_id": stream_id,
            "stream_version": version,
            "stream_type": "case",
        }
        for version, row in enumerate(drawn, start=1)
    ]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(drawn=st.lists(ROW, min_size=1, max_size=4))
async def test_stored_rows_read_back_as_the_validated_envelope(
    engine: AsyncEngine,
    tables: EventStoreTables,
    make_store: Callable[..., EventStore],
    drawn: list[dict[str, Any]],
) -> None:
    rows = stream_rows(drawn)
    events = tables.events
    async with engine.begin() as conn:
        await conn.execute(insert(events), rows)
        query = select(*events.c).where(events.c.stream_id == rows[0]["stream_id"])
        read = (await conn.execute(query.order_by(events.c.stream_version))).mappings().all()
    assert len(read) == len(rows)
    for row in read:
        assert_same_envelope(envelope_from_row(row, SOURCE), row)

    store = make_store()
    through_store = await store.read_stream(rows[0]["stream_id"])  # asyncpg on PostgreSQL
    assert through_store == [validated_envelope_from_row(row, SOURCE) for row in read]
    if store._driver is not None:
        await assert_driver_rows_same(engine, store, rows[0]["stream_id"])


async def assert_driver_rows_same(engine: AsyncEngine, store: EventStore, stream_id: str) -> None:
    """The asyncpg records (its own UUID type, its codecs) give the validated envelope too."""
    reader = store._reader
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None
        assert reader._driver_stream is not None
        records = await raw.fetch(reader._driver_stream, stream_id)
        envelopes = await reader.driver_stream(raw, stream_id)
    assert records
    for envelope, record in zip(envelopes, records, strict=True):
        assert_same_envelope(envelope, record)
        assert_same_envelope(envelope_from_row(record, SOURCE), record)


PAYLOADS: list[dict[str, Any]] = [
    {"case_id": "c-1", "grade": 60, "note": "Sykmeldt, gradert ✓"},  # flat: kept, not parsed
    {"periods": [{"from": "2026-01-05", "grade": 100}], "empty": {}},  # nested: parsed back
]


def test_an_appends_own_envelopes_are_the_validated_envelopes_of_its_rows() -> None:
    """The answer of an append is built from its batch (no read): the same fast path."""
    events = [NewEvent("case.opened", PAYLOADS[0]), NewEvent("case.graded", PAYLOADS[1], 3)]
    batch = AppendBatch(
        stream_id="c-1",
        stream_type="case",
        tenant="acme",
        expected_version=0,
        command_id=None,
        command_fingerprint=None,
        correlation_id="corr-1",
        causation_id=None,
        recorded_at=datetime(2026, 3, 2, 8, 0, 0, 125, tzinfo=UTC),
        events=pending_events(events),
        outbox=None,
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )
    envelopes = batch.envelopes(41, 7, SOURCE)
    for envelope, row in zip(envelopes, batch.event_rows(41, 7), strict=True):
        assert_same_envelope(envelope, row)
    assert [e.data for e in envelopes] == PAYLOADS


async def test_appended_events_read_back_as_the_validated_envelopes(
    make_store: Callable[..., EventStore], engine: AsyncEngine, tables: EventStoreTables
) -> None:
    store = make_store()
    events = [NewEvent("case.opened", PAYLOADS[0]), NewEvent("case.graded", PAYLOADS[1], 3)]
    result = await store.append(
        "c-1", events, tenant="acme", expected_version=0, correlation_id="corr-1"
    )
    table = tables.events
    async with engine.connect() as conn:
        read = (await conn.execute(select(*table.c).order_by(table.c.global_position))).all()
    rows = [row._mapping for row in read]
    assert [row["causation_id"] for row in rows] == [None, None]  # NULL columns read as None
    through_store = await store.read_all(0, 10)  # the embedded transport's and rebuild's read
    for envelope, row in zip(through_store, rows, strict=True):
        assert_same_envelope(envelope, row)
    assert through_store == list(result.envelopes)


def test_the_envelope_has_no_validator_the_trusted_path_would_skip() -> None:
    """Validation only checks types and bounds today; a validator that normalised a value
    would have to be done by ``envelope_from_row`` too."""
    decorators = Envelope.__pydantic_decorators__
    assert not decorators.field_validators
    assert not decorators.model_validators
    assert not decorators.root_validators
    assert not decorators.validators
    assert Envelope.model_post_init is BaseModel.model_post_init
    assert set(BaseModel.__slots__) == {
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    }


def test_an_event_schema_version_below_one_is_refused_before_anything_is_written() -> None:
    with pytest.raises(ValueError, match="schema_version"):
        pending_events([NewEvent("case.opened", {}), NewEvent("case.opened", {}, 0)])
