"""Event ids drawn in bulk, and a large append stepping aside for a group about to go out."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from naervaer.eventstore.group import GroupCommit
from naervaer.eventstore.ids import new_event_ids
from naervaer.eventstore.model import NewEvent, pending_events


def test_bulk_ids_are_time_ordered_version_7_uuids() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = new_event_ids(2000)
    after_ms = time.time_ns() // 1_000_000
    assert len(set(ids)) == 2000
    assert all(isinstance(i, uuid.UUID) for i in ids)
    assert {(i.version, i.variant) for i in ids} == {(7, uuid.RFC_4122)}
    stamps = {i.int >> 80 for i in ids}  # the 48-bit Unix milliseconds
    assert len(stamps) == 1
    assert before_ms <= stamps.pop() <= after_ms
    # 74 random bits each: the 12 below the version and the 62 below the variant
    assert len({i.int & ((0xFFF << 64) | ((1 << 62) - 1)) for i in ids}) == 2000
    for made in ids[:50]:  # the same value, hash and text as a UUID built the usual way
        usual = uuid.UUID(str(made))
        assert (made, hash(made), made.hex, made.bytes) == (
            usual,
            hash(usual),
            usual.hex,
            usual.bytes,
        )
    assert new_event_ids(0) == []


def test_ids_drawn_later_sort_after_earlier_ones() -> None:
    """What keeps the ``event_id`` index's inserts at its right edge."""
    first = new_event_ids(100)
    time.sleep(0.002)
    later = new_event_ids(100)
    assert max(first) < min(later)


def test_pending_events_keep_given_ids_and_draw_the_rest() -> None:
    given = uuid.uuid4()
    pending = pending_events(
        [NewEvent("a", {"x": 1}), NewEvent("b", {"y": [1]}, event_id=given), NewEvent("c", {})]
    )
    assert pending[1].event_id == given
    assert len({p.event_id for p in pending}) == 3
    assert [p.type for p in pending] == ["a", "b", "c"]
    assert pending[0].data == {"x": 1}
    assert pending[0].plain is not None  # a flat payload: kept, no parse needed
    assert pending[1].data == {"y": [1]}
    assert pending[1].plain is None  # nested: parsed back from the JSON text


def test_make_way_lets_a_formed_group_go_out_first() -> None:
    # A writer's lone append is answered while another append waits behind it: that one's
    # group is formed, its flusher created but not yet run, when the writer prepares its next.
    order: list[str] = []
    gates: list[asyncio.Event] = []

    class Recording(GroupCommit):
        async def _outcomes(self, batches: Sequence[Any]) -> list[Any]:
            order.append("sent")
            await gates[-1].wait()
            return ["written"] * len(batches)

    group = Recording(None, None, None, None)  # type: ignore[arg-type]
    batch = SimpleNamespace(stream_id="s", expected_version=None, command_id=None)

    async def writer(step_aside: bool) -> None:
        assert await group.write(batch) == "written"  # type: ignore[arg-type]
        if step_aside:
            await group.make_way()
        order.append("prepared")

    async def scenario(step_aside: bool) -> list[str]:
        order.clear()
        gates.append(asyncio.Event())
        writing = asyncio.create_task(writer(step_aside))
        await asyncio.sleep(0)  # the writer's append is in flight, alone
        waiting = asyncio.create_task(group.write(batch))  # type: ignore[arg-type]
        await asyncio.sleep(0)  # queued behind it
        gates[-1].set()
        await writing
        assert await waiting == "written"
        return list(order)

    assert asyncio.run(scenario(step_aside=False)) == ["sent", "prepared", "sent"]
    assert asyncio.run(scenario(step_aside=True)) == ["sent", "sent", "prepared"]
