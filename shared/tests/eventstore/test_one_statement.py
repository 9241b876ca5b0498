"""One statement for every kind of append (PostgreSQL).

A group mixing new streams, expected versions, "any version" and command ids is one
pipelined run (one ``fetchmany``, one round trip), not a transaction of several.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import ConcurrencyConflict, EventStore, NewEvent
from naervaer.eventstore.model import AppendBatch, pending_events

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


def batch(stream: str, expected: int | None, command: str | None = None) -> AppendBatch:
    return AppendBatch(
        stream_id=stream,
        stream_type="case",
        tenant="t",
        expected_version=expected,
        command_id=command,
        command_fingerprint=None,
        correlation_id=None,
        causation_id=None,
        recorded_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
        events=pending_events([event()]),
        outbox=None,
    )


async def test_every_kind_of_append_goes_in_one_pipelined_run(
    store: EventStore, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.append("old", [event()], tenant="t", expected_version=0)
    calls: list[int] = []
    real = asyncpg.Connection.fetchmany

    async def counted(self: asyncpg.Connection, query: str, args: Any, **kw: Any) -> Any:
        calls.append(len(args))
        return await real(self, query, args, **kw)

    monkeypatch.setattr(asyncpg.Connection, "fetchmany", counted)
    assert store._group is not None
    appender = store._group._appender
    batches = [
        batch("new", 0),  # a new stream
        batch("old", 1),  # the expected version
        batch("old", None, "cmd-1"),  # any version, with a command id
        batch("missing", 4),  # expects a stream that does not exist: a conflict
        batch("old", 0),  # expects a new stream that exists: a conflict
        batch("anywhere", None),  # any version of a new stream
    ]
    assert store._driver is not None
    rows = await store._driver.run(lambda raw: appender.append_many(raw, batches))
    assert calls == [len(batches)]  # one fetchmany: one round trip, one transaction
    assert [row["version"] for row in rows] == [1, 2, 3, None, None, 1]
    assert await store.stream_version("missing") == 0  # the conflict created nothing
    assert await store.stream_version("old") == 3
    for conflicted in (batches[3], batches[4]):
        async with engine.connect() as conn:
            row = rows[batches.index(conflicted)]
            with pytest.raises(ConcurrencyConflict):
                await appender.settle(conn, conflicted, row)
