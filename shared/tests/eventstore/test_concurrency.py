"""Optimistic concurrency, idempotent appends and the gap-free global log under contention."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore import (
    AppendResult,
    ConcurrencyConflict,
    EventStore,
    EventStoreTables,
    NewEvent,
)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


def last_position(envelopes: list[Envelope]) -> int:
    return (envelopes[-1].globalposition or 0) if envelopes else 0


async def row_counts(engine: AsyncEngine, tables: EventStoreTables) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: int(await conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in (tables.events, tables.streams, tables.command_log)
        }


async def test_expected_version_mismatch_raises_and_writes_nothing(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    await store.append("s", [event(), event()], tenant="t", expected_version=0)
    before = await row_counts(engine, tables)

    for stream, expected, actual in (("s", 0, 2), ("s", 1, 2), ("s", 5, 2), ("new", 1, 0)):
        with pytest.raises(ConcurrencyConflict) as caught:
            await store.append(
                stream,
                [event()],
                tenant="t",
                expected_version=expected,
                command_id=f"cmd-{stream}-{expected}",
            )
        assert (caught.value.stream_id, caught.value.expected_version) == (stream, expected)
        assert caught.value.actual_version == actual

    assert await row_counts(engine, tables) == before
    assert await store.head_position() == 2


async def test_concurrent_appends_at_one_version_have_one_winner(store: EventStore) -> None:
    await store.append("race", [event()], tenant="t", expected_version=0)

    outcomes = await asyncio.gather(
        *(
            store.append("race", [event(i), event(i)], tenant="t", expected_version=1)
            for i in range(6)
        ),
        return_exceptions=True,
    )

    winners = [o for o in outcomes if isinstance(o, AppendResult)]
    losers = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert (len(winners), len(losers)) == (1, 5)
    assert all(loser.actual_version == 3 for loser in losers)
    assert [e.streamversion for e in await store.read_stream("race")] == [1, 2, 3]
    assert await store.head_position() == 3


async def test_new_stream_race_has_one_winner(store: EventStore) -> None:
    outcomes = await asyncio.gather(
        *(store.append("fresh", [event(i)], tenant="t", expected_version=0) for i in range(5)),
        return_exceptions=True,
    )

    assert sum(isinstance(o, AppendResult) for o in outcomes) == 1
    assert sum(isinstance(o, ConcurrencyConflict) for o in outcomes) == 4
    assert await store.stream_version("fresh") == 1


async def test_retried_command_returns_first_result_and_writes_nothing(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    first = await store.append(
        "s", [event(1), event(2)], tenant="t", expected_version=0, command_id="register-1"
    )
    await store.append("s", [event(3)], tenant="t", expected_version=2)
    before = await row_counts(engine, tables)

    retry = await store.append(
        "s", [event(9)], tenant="t", expected_version=0, command_id="register-1"
    )

    assert retry.duplicate
    assert not first.duplicate
    assert (retry.stream_id, retry.version, retry.envelopes) == ("s", 2, first.envelopes)
    assert await row_counts(engine, tables) == before


async def test_concurrent_duplicates_write_once(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    outcomes = await asyncio.gather(
        *(
            store.append(
                "dup",
                [event(i), event(i)],
                tenant="t",
                expected_version=None,
                command_id="same-command",
            )
            for i in range(6)
        )
    )

    originals = [o for o in outcomes if not o.duplicate]
    assert len(originals) == 1
    assert all(o.envelopes == originals[0].envelopes and o.version == 2 for o in outcomes)
    assert await row_counts(engine, tables) == {"events": 2, "streams": 1, "command_log": 1}


async def test_unique_version_violation_maps_to_conflict(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    # An event row without its stream row: the version check passes, the unique key does not.
    result = await store.append("other", [event()], tenant="t", expected_version=0)
    row = result.envelopes[0]
    async with engine.begin() as conn:
        await conn.execute(
            insert(tables.events).values(
                global_position=100,
                event_id=uuid.uuid4(),
                stream_id="orphan",
                stream_version=1,
                stream_type="case",
                tenant="t",
                type="x",
                schema_version=1,
                data={},
                recorded_at=row.time,
            )
        )

    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("orphan", [event()], tenant="t", expected_version=0)

    assert caught.value.actual_version == 0
    assert await store.head_position() == 1


async def test_conflict_in_caller_transaction_leaves_it_usable(
    store: EventStore, engine: AsyncEngine
) -> None:
    await store.append("s", [event()], tenant="t", expected_version=0)
    async with engine.begin() as conn:
        with pytest.raises(ConcurrencyConflict):
            await store.append("s", [event()], tenant="t", expected_version=0, connection=conn)
        await store.append("s2", [event()], tenant="t", expected_version=0, connection=conn)

    assert [e.streamid for e in await store.read_all()] == ["s", "s2"]


async def test_global_positions_are_gap_free_and_never_skipped_by_a_tailing_reader(
    store: EventStore,
) -> None:
    writers, appends_each = 8, 12
    done = asyncio.Event()

    async def write(writer: int) -> None:
        for n in range(appends_each):
            size = 1 + (writer + n) % 3
            await store.append(
                f"w{writer}-{n % 3}", [event(n)] * size, tenant="t", expected_version=None
            )

    async def tail() -> list[Envelope]:
        seen: list[Envelope] = []
        while True:
            finished = done.is_set()
            page = await store.read_all(last_position(seen))
            seen.extend(page)
            if finished and not page:
                return seen
            await asyncio.sleep(0)  # yield to the writers; the loop ends on `done`, not time

    reader = asyncio.create_task(tail())
    await asyncio.gather(*(write(w) for w in range(writers)))
    done.set()
    tailed = await asyncio.wait_for(reader, timeout=30)

    everything = await store.read_all(limit=10_000)
    total = len(everything)
    assert [e.globalposition for e in everything] == list(range(1, total + 1))
    assert [e.globalposition for e in tailed] == list(range(1, total + 1))
    assert await store.head_position() == total
    versions: dict[str, list[int]] = defaultdict(list)
    for envelope in everything:
        versions[envelope.streamid].append(envelope.streamversion)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
