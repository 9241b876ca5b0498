"""A command id with a request fingerprint: retries match it, a reused key does not."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.eventstore import EventStore, EventStoreTables, IdempotencyKeyReused, NewEvent


def event(n: int) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


async def event_count(engine: AsyncEngine, tables: EventStoreTables) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(tables.events)) or 0)


async def test_fingerprint_is_logged_with_the_command(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    await store.append(
        "s", [event(1)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f1"
    )
    async with engine.connect() as conn:
        logged = await conn.scalar(select(tables.command_log.c.fingerprint))
    assert logged == "f1"


async def test_retry_with_the_same_fingerprint_returns_the_first_result(
    store: EventStore,
) -> None:
    first = await store.append(
        "s", [event(1)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f1"
    )
    retry = await store.append(
        "s", [event(1)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f1"
    )
    assert retry.duplicate
    assert retry.envelopes == first.envelopes


async def test_append_with_another_fingerprint_is_refused_and_writes_nothing(
    store: EventStore, engine: AsyncEngine, tables: EventStoreTables
) -> None:
    await store.append(
        "s", [event(1)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f1"
    )
    with pytest.raises(IdempotencyKeyReused) as refused:
        await store.append(
            "s",
            [event(2)],
            tenant="t",
            expected_version=1,
            command_id="c-1",
            command_fingerprint="f2",
        )
    assert refused.value.command_id == "c-1"
    assert await event_count(engine, tables) == 1
    assert await store.stream_version("s") == 1


async def test_refusal_inside_a_caller_transaction_leaves_it_usable(
    store: EventStore, engine: AsyncEngine
) -> None:
    await store.append(
        "s", [event(1)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f1"
    )
    async with engine.begin() as conn:
        with pytest.raises(IdempotencyKeyReused):
            await store.append(
                "s",
                [event(2)],
                tenant="t",
                expected_version=1,
                command_id="c-1",
                command_fingerprint="f2",
                connection=conn,
            )
        await store.append("other", [event(3)], tenant="t", expected_version=0, connection=conn)
    assert await store.stream_version("other") == 1


async def test_without_two_fingerprints_a_repeat_counts_as_a_retry(store: EventStore) -> None:
    await store.append("s", [event(1)], tenant="t", expected_version=0, command_id="c-1")
    retry = await store.append(
        "s", [event(2)], tenant="t", expected_version=0, command_id="c-1", command_fingerprint="f"
    )
    assert retry.duplicate
    assert retry.version == 1


async def test_command_result_answers_a_retry_before_it_is_decided(store: EventStore) -> None:
    assert await store.command_result("c-1", fingerprint="f1") is None
    first = await store.append(
        "s",
        [event(1), event(2)],
        tenant="t",
        expected_version=0,
        command_id="c-1",
        command_fingerprint="f1",
    )
    await store.append("s", [event(3)], tenant="t", expected_version=2)

    earlier = await store.command_result("c-1", fingerprint="f1")

    assert earlier is not None
    assert earlier.duplicate
    assert (earlier.stream_id, earlier.version, earlier.envelopes) == ("s", 2, first.envelopes)
    with pytest.raises(IdempotencyKeyReused):
        await store.command_result("c-1", fingerprint="f2")
