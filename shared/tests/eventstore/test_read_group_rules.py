"""The read group's own rules, without a database: who goes alone, who waits, who fails.

A driver stand-in runs the work at once; the reads themselves are functions the tests hold
back with events, so which reads queue behind which is decided here, not by timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest

from naervaer.eventstore.read_group import MAX_GROUP, ReadGroup


class Driver:
    async def run(self, work: Callable[[Any], Awaitable[Any]]) -> Any:
        return await work("raw")


class Reads:
    """Versions of streams; the lone read waits for ``release`` and the group may fail."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.groups: list[list[str]] = []
        self.fail_next_group: Exception | None = None
        self.hold_groups: asyncio.Event | None = None

    async def alone(self, raw: Any, stream_id: str) -> int:
        await self.release.wait()
        return len(stream_id)

    async def together(self, raw: Any, stream_ids: Sequence[str]) -> Mapping[str, int]:
        self.groups.append(list(stream_ids))
        if self.hold_groups is not None:
            await self.hold_groups.wait()
        if self.fail_next_group is not None:
            error, self.fail_next_group = self.fail_next_group, None
            raise error
        return {s: len(s) for s in stream_ids if s != "missing"}


def _version_or_zero(found: int | None) -> int:
    return found or 0


def group_of(
    reads: Reads,
    alone_at_once: int = 1,
    *,
    answer: Callable[[int | None], int] = _version_or_zero,
    max_group: int = MAX_GROUP,
) -> ReadGroup[int, int]:
    return ReadGroup(
        Driver(),  # type: ignore[arg-type]
        reads.alone,
        reads.together,
        answer,
        alone_at_once=alone_at_once,
        max_group=max_group,
    )


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_read_goes_alone_and_the_ones_behind_it_together() -> None:
    reads = Reads()
    group = group_of(reads)
    first = asyncio.create_task(group.read("a"))
    await settle()
    behind = [asyncio.create_task(group.read(s)) for s in ("bb", "ccc", "bb", "missing")]
    await settle()
    assert reads.groups == []  # nothing goes before the read in flight has ended

    reads.release.set()
    assert await first == 1
    assert [await task for task in behind] == [2, 3, 2, 0]
    assert reads.groups == [["bb", "ccc", "missing"]]  # one statement, each stream once
    assert group.reads_grouped == 4


async def test_reads_go_alone_side_by_side_up_to_the_limit_then_queue() -> None:
    reads = Reads()
    group = group_of(reads, alone_at_once=2)
    alone = [asyncio.create_task(group.read(s)) for s in ("a", "bb")]
    await settle()
    queued = [asyncio.create_task(group.read(s)) for s in ("ccc", "dddd")]
    await settle()
    reads.release.set()

    assert [await task for task in (*alone, *queued)] == [1, 2, 3, 4]
    assert reads.groups == [["ccc", "dddd"]]  # the first two were read alone


async def test_a_failed_group_read_fails_its_callers_and_only_them() -> None:
    reads = Reads()
    group = group_of(reads)
    first = asyncio.create_task(group.read("a"))
    await settle()
    behind = [asyncio.create_task(group.read(s)) for s in ("bb", "ccc")]
    await settle()
    reads.fail_next_group = ConnectionError("server gone")
    reads.release.set()

    assert await first == 1
    for task in behind:
        with pytest.raises(ConnectionError, match="server gone"):
            await task
    assert await group.read("dddd") == 4  # the next read is not held up by the failure


async def test_reads_queued_behind_a_failing_group_go_in_the_next_one() -> None:
    reads = Reads()
    group = group_of(reads)
    reads.hold_groups = asyncio.Event()
    first = asyncio.create_task(group.read("a"))
    await settle()
    failing = [asyncio.create_task(group.read(s)) for s in ("bb", "ccc")]
    await settle()
    reads.fail_next_group = ConnectionError("server gone")
    reads.release.set()
    await settle()  # the group of bb and ccc is in flight, held
    later = asyncio.create_task(group.read("dddd"))
    await settle()
    reads.hold_groups.set()

    assert await first == 1
    for task in failing:
        with pytest.raises(ConnectionError):
            await task
    assert await later == 4
    assert reads.groups == [["bb", "ccc"], ["dddd"]]


async def test_a_stream_whose_answer_fails_fails_only_its_own_callers() -> None:
    reads = Reads()

    def answer(found: int | None) -> int:
        if found == 3:
            raise ValueError("an unreadable row")
        return found or 0

    group = group_of(reads, answer=answer)
    first = asyncio.create_task(group.read("a"))
    await settle()
    behind = [asyncio.create_task(group.read(s)) for s in ("bb", "ccc", "dddd", "ccc")]
    await settle()
    reads.release.set()

    assert await first == 1
    outcomes = await asyncio.gather(*behind, return_exceptions=True)
    assert outcomes[0] == 2
    assert outcomes[2] == 4
    assert isinstance(outcomes[1], ValueError)
    assert isinstance(outcomes[3], ValueError)


async def test_a_crowd_goes_in_groups_of_at_most_max_group() -> None:
    reads = Reads()
    group = group_of(reads, max_group=2)
    first = asyncio.create_task(group.read("a"))
    await settle()
    crowd = [asyncio.create_task(group.read("x" * n)) for n in range(2, 7)]
    await settle()
    reads.release.set()

    assert [await task for task in (first, *crowd)] == [1, 2, 3, 4, 5, 6]
    assert [len(ids) for ids in reads.groups] == [2, 2, 1]


async def test_a_caller_cancelled_while_queued_leaves_the_others_answer_alone() -> None:
    reads = Reads()
    group = group_of(reads)
    first = asyncio.create_task(group.read("a"))
    await settle()
    leaving, staying = (asyncio.create_task(group.read(s)) for s in ("bb", "ccc"))
    await settle()
    leaving.cancel()
    reads.release.set()

    assert await first == 1
    assert await staying == 3
    assert leaving.cancelled()


async def test_a_cancelled_lone_read_still_sends_the_ones_behind_it() -> None:
    reads = Reads()
    group = group_of(reads)
    first = asyncio.create_task(group.read("a"))
    await settle()
    behind = asyncio.create_task(group.read("bb"))
    await settle()
    first.cancel()

    assert await behind == 2
    assert first.cancelled()


def test_a_read_group_outliving_its_event_loop_starts_afresh() -> None:
    reads = Reads()
    group = group_of(reads)
    old = asyncio.new_event_loop()
    stuck = old.create_task(group.read("a"))  # its lone read never ends on the old loop
    old.run_until_complete(asyncio.sleep(0.01))

    async def on_a_new_loop() -> int:
        reads.release = asyncio.Event()
        reads.release.set()
        return await group.read("bb")

    assert asyncio.run(asyncio.wait_for(on_a_new_loop(), timeout=5)) == 2
    assert not stuck.done()
    stuck.cancel()
    old.run_until_complete(asyncio.gather(stuck, return_exceptions=True))
    old.close()
