"""Concurrent stream reads on PostgreSQL: gathered into groups, each caller its own answer.

Reads started together (``asyncio.gather``) queue up while the first is in flight, so the
rest go as one statement: these tests check that every caller gets what a lone read gives
(versions, whole streams, streams that do not exist, one stream read by several callers) and
that groups really formed.
"""

from __future__ import annotations

import asyncio

import pytest

from naervaer.eventstore import EventStore, NewEvent

pytestmark = pytest.mark.parametrize("target", ["postgresql"], indirect=True)


def grouped(store: EventStore) -> tuple[int, int]:
    assert store._versions is not None
    assert store._streams is not None
    return store._versions.reads_grouped, store._streams.reads_grouped


async def fill(store: EventStore, lengths: dict[str, int]) -> None:
    for stream_id, length in lengths.items():
        events = [NewEvent("case.noted", {"n": n, "stream": stream_id}) for n in range(length)]
        await store.append(stream_id, events, tenant="t", expected_version=0)


async def test_concurrent_version_reads_each_get_their_streams_version(store: EventStore) -> None:
    lengths = {f"s{n}": n + 1 for n in range(12)}
    await fill(store, lengths)
    asked = [*lengths, "missing", "s3", "s3", "s11", "missing"] * 4

    versions = await asyncio.gather(*(store.stream_version(s) for s in asked))

    assert versions == [lengths.get(s, 0) for s in asked]
    assert grouped(store)[0] >= len(asked) - 2  # all but the first two went in groups


async def test_concurrent_stream_reads_each_get_their_whole_stream(store: EventStore) -> None:
    lengths = {f"s{n}": n + 1 for n in range(8)}
    await fill(store, lengths)
    alone = {s: await store.read_stream(s) for s in lengths}
    asked = [*lengths, "missing", "s5", "s5", "s0"] * 3

    streams = await asyncio.gather(*(store.read_stream(s) for s in asked))

    assert grouped(store)[1] >= len(asked) - 2
    for stream_id, read in zip(asked, streams, strict=True):
        assert read == alone.get(stream_id, [])
        assert [e.streamversion for e in read] == list(range(1, lengths.get(stream_id, 0) + 1))


async def test_callers_of_one_stream_in_a_group_share_nothing(store: EventStore) -> None:
    payload = {"items": [1, 2], "nested": {"a": 1}}
    await store.append("x", [NewEvent("case.noted", payload)], tenant="t", expected_version=0)

    reads = await asyncio.gather(*(store.read_stream("x") for _ in range(6)))

    assert grouped(store)[1] >= 4
    assert all(read == reads[0] for read in reads)
    reads[2][0].data["items"].append(99)  # one caller changing its payload …
    reads[3][0].data["nested"]["a"] = 2
    others = [read for index, read in enumerate(reads) if index not in (2, 3)]
    assert all(read[0].data == payload for read in others)  # … changes nobody else's


async def test_a_read_sees_every_append_committed_before_it_was_asked(store: EventStore) -> None:
    await fill(store, {"s": 1})

    async def append_then_read(n: int) -> tuple[int, int]:
        written = await store.append(
            f"w{n}", [NewEvent("case.noted", {"n": n})], tenant="t", expected_version=0
        )
        return written.version, await store.stream_version(f"w{n}")

    others = [store.stream_version("s") for _ in range(20)]
    answers = await asyncio.gather(*others, *(append_then_read(n) for n in range(20)))

    assert answers[:20] == [1] * 20
    assert answers[20:] == [(1, 1)] * 20
    assert grouped(store)[0] > 0


async def test_a_read_queued_after_an_append_is_not_answered_by_an_older_read(
    store: EventStore,
) -> None:
    # A group read of "s" is held after reading version 1; meanwhile "s" moves to 2 and a new
    # read of "s" is asked: it must be sent on its own, not answered with the held group's 1.
    await fill(store, {"s": 1})
    versions = store._versions
    assert versions is not None
    together, entered, gate = versions._together, asyncio.Event(), asyncio.Event()

    async def held(raw: object, stream_ids: list[str]) -> object:
        found = await together(raw, stream_ids)
        entered.set()
        await gate.wait()
        return found

    versions._together = held  # type: ignore[assignment]
    early = [asyncio.create_task(store.stream_version("s")) for _ in range(3)]  # 2 alone, 1 queued
    await asyncio.wait_for(entered.wait(), timeout=10)
    await store.append("s", [NewEvent("case.noted", {})], tenant="t", expected_version=1)
    late = asyncio.create_task(store.stream_version("s"))
    await asyncio.sleep(0.05)  # the late read is queued behind the held group
    gate.set()

    assert await asyncio.gather(*early) == [1, 1, 1]
    assert await late == 2
