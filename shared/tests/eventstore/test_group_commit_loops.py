"""Group commit without a database: a store that outlives the event loop it was used in."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from naervaer.eventstore.group import GroupCommit


def test_a_group_commit_outliving_its_event_loop_starts_afresh() -> None:
    # The first group never finishes writing, and its loop is then abandoned with the
    # flusher still pending (as a test client's loop may be).
    entered = asyncio.Event()

    class StuckOnce(GroupCommit):
        groups = 0

        async def _outcomes(self, batches: Sequence[Any]) -> list[Any]:
            StuckOnce.groups += 1
            if StuckOnce.groups == 1:
                entered.set()
                await asyncio.Future()  # never done
            return ["written"] * len(batches)

    group = StuckOnce(None, None, None, None)  # type: ignore[arg-type]
    batch = SimpleNamespace(stream_id="s", expected_version=None, command_id=None)
    old = asyncio.new_event_loop()
    stuck = old.create_task(group.write(batch))  # type: ignore[arg-type]
    old.run_until_complete(asyncio.wait_for(entered.wait(), timeout=5))

    again = asyncio.wait_for(group.write(batch), timeout=5)  # type: ignore[arg-type]
    assert asyncio.run(again) == "written"
    assert not stuck.done()
    leftovers = asyncio.all_tasks(old)
    for task in leftovers:
        task.cancel()
    old.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
    old.close()
