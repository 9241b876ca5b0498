"""Reading a whole stream: on PostgreSQL straight on asyncpg, giving exactly the envelopes the
SQLAlchemy read gives (the same rows, decoded by the same codecs)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import EventStore, NewEvent

pytestmark = pytest.mark.integration

PAYLOADS = [
    {"case_id": "c-1", "period_start": "2026-01-05", "grade": 100, "nested": {"a": [1, None]}},
    {"case_id": "c-1", "text": "Ærlig og ærbødig ✓", "empty": [], "flag": True},
    {"case_id": "c-1", "number": 1.5},
]


async def test_a_stream_reads_the_same_on_the_driver_as_through_sqlalchemy(
    make_store: Callable[..., EventStore], engine: AsyncEngine
) -> None:
    store = make_store()
    for index, payload in enumerate(PAYLOADS):
        events = [NewEvent(f"case.t{index}", payload)]
        await store.append(
            "c-1", events, tenant="t", expected_version=index, command_id=f"k{index}"
        )
    await store.append("c-2", [NewEvent("case.other", {})], tenant="t", expected_version=0)

    read = await store.read_stream("c-1")  # the driver's way on PostgreSQL
    async with engine.connect() as conn:  # SQLAlchemy's, the same SQL on both databases
        reference = await store._reader.stream(conn, "c-1")

    assert read == reference
    assert [e.streamversion for e in read] == [1, 2, 3]
    assert [e.data for e in read] == PAYLOADS
    assert {e.streamid for e in read} == {"c-1"}
    assert await store.read_stream("nothing-here") == []
    # the other read options keep SQLAlchemy's way, with the same answers
    assert await store.read_stream("c-1", to_version=2) == read[:2]


def test_only_postgresql_reads_streams_on_the_driver(make_store: Callable[..., EventStore]) -> None:
    store = make_store()
    assert (store._driver is not None) == store._postgres
