"""The storm: the stream of commands and the faults, interleaved.

The stream is cut into shares, one more than there are faults. Each fault is injected as soon
as the stream has been handed its previous share and is given the next one, so every kill lands
while commands are in flight and the outage meets the commands that follow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from .faults import Fault, Injector
from .workload import Workload


@dataclass
class Storm:
    workload: Workload
    injector: Injector
    faults: list[Fault]

    async def run(self) -> None:
        pacer = self.workload.pacer
        await pacer.allow(pacer.total // (len(self.faults) + 1))
        stream = asyncio.create_task(self.workload.run(), name="command stream")
        try:
            for done, fault in enumerate(self.faults):
                handed_out = pacer.reached(pacer.limit)
                await _unless_ended(handed_out, stream, self.workload.problems)
                # What is left, shared among the faults to come and the calm after them.
                share = (pacer.total - pacer.limit) // (len(self.faults) - done + 1)
                await pacer.allow(pacer.limit + max(1, share))
                await self.injector.inject(fault)
            await pacer.allow(pacer.total)
            await stream
        finally:
            if not stream.done():
                stream.cancel()
                await asyncio.gather(stream, return_exceptions=True)


async def _unless_ended(
    wanted: Awaitable[None], stream: asyncio.Task[None], problems: list[str]
) -> None:
    """Wait for ``wanted``; fail at once if the stream ends (or breaks) before it."""
    waiting = asyncio.ensure_future(wanted)
    done, _ = await asyncio.wait({waiting, stream}, return_when=asyncio.FIRST_COMPLETED)
    if waiting in done:
        return
    waiting.cancel()
    stream.result()  # raises what broke the stream, if anything did
    raise AssertionError(f"the stream ended before the faults did: {problems[:5]}")
