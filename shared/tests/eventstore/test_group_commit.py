"""Group commit on PostgreSQL: concurrent appends share a transaction, each keeps its answer.

Appends started together (``asyncio.gather``) queue up while the first is written, so the
rest go as groups: these tests check every answer a lone append would give — results,
conflicts, duplicates, reused keys, a failing append — and that groups really formed.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import defaultdict
from collections.abc import Coroutine
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import (
    AppendResult,
    ConcurrencyConflict,
    EventStore,
    EventStoreTables,
    IdempotencyKeyReused,
    NewEvent,
)

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


def grouped(store: EventStore) -> int:
    assert store._group is not None
    return store._group.appends_grouped


async def append_many(
    store: EventStore, calls: list[tuple[str, int | None, str | None]]
) -> list[AppendResult | BaseException]:
    """Start every (stream, expected_version, command_id) append at once."""
    return await asyncio.gather(
        *(
            store.append(s, [event(i)], tenant="t", expected_version=v, command_id=c)
            for i, (s, v, c) in enumerate(calls)
        ),
        return_exceptions=True,
    )


async def test_the_log_stays_gap_free_and_in_order_under_many_writers(store: EventStore) -> None:
    rng = random.Random(7)
    streams = [f"s{n}" for n in range(6)]
    known: dict[str, int] = dict.fromkeys(streams, 0)
    written: list[AppendResult] = []
    conflicts = 0
    for _ in range(12):  # rounds of 24 appends started together, some on stale versions
        calls: list[tuple[str, int | None, str | None]] = []
        for _ in range(24):
            stream = rng.choice(streams)
            expected = rng.choice([known[stream], known[stream], None, known[stream] + 3])
            calls.append((stream, expected, None))
        for (stream, expected, _), outcome in zip(
            calls, await append_many(store, calls), strict=True
        ):
            if isinstance(outcome, ConcurrencyConflict):  # each caller gets its own answer
                assert (outcome.stream_id, outcome.expected_version) == (stream, expected)
                conflicts += 1
                continue
            assert isinstance(outcome, AppendResult), outcome
            assert outcome.stream_id == stream
            assert expected is None or outcome.version == expected + 1
            written.append(outcome)
            known[outcome.stream_id] = max(known[outcome.stream_id], outcome.version)

    everything = await store.read_all(limit=10_000)
    assert [e.globalposition for e in everything] == list(range(1, len(written) + 1))
    assert {e.id for r in written for e in r.envelopes} == {e.id for e in everything}
    versions: dict[str, list[int]] = defaultdict(list)
    for envelope in everything:
        versions[envelope.streamid].append(envelope.streamversion)
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert conflicts > 0
    assert grouped(store) > 0


async def test_one_winner_per_version_and_each_loser_learns_the_winner(store: EventStore) -> None:
    await store.append("hot", [event()], tenant="t", expected_version=0)
    for version in range(1, 6):
        outcomes = await append_many(store, [("hot", version, None)] * 10)
        winners = [o for o in outcomes if isinstance(o, AppendResult)]
        losers = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
        assert len(winners) == 1
        assert len(losers) == 9
        assert winners[0].version == version + 1
        assert {(c.expected_version, c.actual_version) for c in losers} == {(version, version + 1)}
    assert await store.stream_version("hot") == 6
    assert grouped(store) == 0  # the losers were answered without running their statements


async def test_conflicts_in_a_group_are_answered_from_its_rows(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version conflict needs no read: its statement's row holds the version it found, so a
    group with conflicts takes no connection beyond its own."""
    await store.append("s", [event(), event(), event()], tenant="t", expected_version=0)
    assert store._group is not None

    class NoReads:
        def connect(self) -> None:
            raise AssertionError("a conflict was answered with a read")

    monkeypatch.setattr(store._group, "_own", NoReads())
    # The first goes alone; the other three queue behind it and go as one group.
    outcomes = await append_many(
        store, [("t", 0, None), ("s", 3, None), ("s", 1, None), ("s", 2, None)]
    )
    assert grouped(store) == 3
    assert isinstance(outcomes[1], AppendResult)
    assert outcomes[1].version == 4
    assert [(c.expected_version, c.actual_version) for c in outcomes[2:]] == [(1, 4), (2, 4)]  # type: ignore[union-attr]


async def test_retries_in_one_group_get_the_first_result(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    def attempt(fingerprint: str, n: int) -> Coroutine[Any, Any, AppendResult]:
        return store.append(
            "case",
            [event(n), event(n)],
            tenant="t",
            expected_version=None,
            command_id="register-1",
            command_fingerprint=fingerprint,
        )

    others = [store.append(f"other-{n}", [event()], tenant="t", expected_version=0) for n in (1, 2)]
    # The first append goes alone: everything started behind it forms one group.
    _, first, *rest = await asyncio.gather(
        *[
            store.append("lead-in", [event()], tenant="t", expected_version=0),
            attempt("f1", 1),
            *others,
            attempt("f1", 2),
            attempt("f2", 3),  # the same key with another request
            attempt("f1", 4),
        ],
        return_exceptions=True,
    )

    assert isinstance(first, AppendResult)
    assert not first.duplicate
    assert all(isinstance(o, AppendResult) and not o.duplicate for o in rest[:2])
    retry, reused, retry_again = rest[2:]
    assert isinstance(reused, IdempotencyKeyReused)
    for duplicate in (retry, retry_again):
        assert isinstance(duplicate, AppendResult)
        assert duplicate.duplicate
        assert (duplicate.version, duplicate.envelopes) == (first.version, first.envelopes)
    assert await store.stream_version("case") == 2
    assert len(await store.read_all()) == 5
    assert grouped(store) > 0


async def test_a_failing_append_fails_alone(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    # An event row without its stream: appending there passes the version check and then
    # breaks the unique key, a database error that aborts the group's transaction.
    seeded = await store.append("seed", [event()], tenant="t", expected_version=0)
    async with engine.begin() as conn:
        await conn.execute(
            insert(tables.events).values(
                global_position=1_000,
                event_id=uuid.uuid4(),
                stream_id="orphan",
                stream_version=1,
                stream_type="case",
                tenant="t",
                type="x",
                schema_version=1,
                data={},
                recorded_at=seeded.envelopes[0].time,
            )
        )

    calls: list[tuple[str, int | None, str | None]] = [(f"ok-{n}", 0, None) for n in range(6)]
    calls.insert(3, ("orphan", 0, None))
    outcomes = await append_many(store, calls)

    failed = outcomes.pop(3)
    assert isinstance(failed, ConcurrencyConflict)
    assert failed.actual_version == 0
    assert all(isinstance(o, AppendResult) and o.version == 1 for o in outcomes)
    positions = sorted(e.globalposition or 0 for e in await store.read_all(limit=100))
    assert positions == [*range(1, 8), 1_000]


async def test_a_cancelled_caller_does_not_disturb_its_group(store: EventStore) -> None:
    tasks = [
        asyncio.create_task(store.append(f"c{n}", [event()], tenant="t", expected_version=0))
        for n in range(8)
    ]
    await asyncio.sleep(0)  # let every append queue up behind the first
    tasks[4].cancel()

    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert isinstance(outcomes[4], asyncio.CancelledError)
    assert all(isinstance(o, AppendResult) for i, o in enumerate(outcomes) if i != 4)
    everything = await store.read_all()
    # The cancelled append was already queued (as if its statement had been sent): it is
    # written all the same, and the log has no gap.
    assert [e.globalposition for e in everything] == list(range(1, 9))


async def test_group_commit_can_be_turned_off(
    engine: AsyncEngine, tables: EventStoreTables
) -> None:
    plain = EventStore(engine, tables, source="/s", outbox_topic=None, group_commit=False)
    outcomes = await append_many(plain, [(f"p{n}", 0, None) for n in range(8)])
    assert all(isinstance(o, AppendResult) for o in outcomes)
    assert plain._group is None


async def test_later_appends_of_a_group_see_the_earlier_ones(store: EventStore) -> None:
    await store.append("s", [event()], tenant="t", expected_version=0)
    # The first append goes alone; the three behind it queue up meanwhile: one group.
    calls: list[tuple[str, int | None, str | None]] = [
        ("other", 0, None),
        ("s", 1, None),
        ("s", 2, "c-3"),
        ("s", 3, None),
    ]
    outcomes = await append_many(store, calls)
    assert [o.version for o in outcomes if isinstance(o, AppendResult)] == [1, 2, 3, 4]
    assert grouped(store) == 3


async def test_a_group_lost_with_its_connection_is_never_written_twice(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert store._group is not None
    appender = store._group._appender
    sent: list[int] = []

    async def lost(raw: object, batches: list[object]) -> list[object]:
        sent.append(len(batches))
        raise ConnectionResetError("connection lost after sending the group")

    monkeypatch.setattr(appender, "append_many", lost)
    outcomes = await append_many(store, [(f"l{n}", 0, None) for n in range(4)])

    # The group may have committed before the connection went: every caller hears of the
    # loss, and nothing is written again behind their backs (the first append went alone,
    # the other three as the group that formed behind it: each was sent once).
    assert sent == [1, 3]
    assert all(isinstance(o, ConnectionResetError) for o in outcomes)
    assert await store.read_all() == []


async def test_an_append_behind_a_failed_one_still_runs(store: EventStore) -> None:
    # Both expect version 5 of a stream at 4: the first fails, and the second, held back
    # behind it, must run after all, after the append that moves the stream to 5.
    await store.append("s", [event()] * 4, tenant="t", expected_version=0)
    _, first, moving, second = await append_many(
        store, [("lead-in", 0, None), ("s", 5, None), ("s", 4, None), ("s", 5, None)]
    )

    assert isinstance(first, ConcurrencyConflict)
    assert first.actual_version == 4
    assert isinstance(moving, AppendResult)
    assert moving.version == 5
    assert isinstance(second, AppendResult)
    assert second.version == 6
