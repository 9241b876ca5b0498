"""W5: projection rebuild — replay N events into the deadline timeline from scratch.

The case service's store is filled with generated cases (N events; 1 million by default),
then ``naervaer rebuild deadline`` runs in-process (``rebuild_service``): it resets the
timeline and replays the whole log into it, 1 000 events a batch. Events/s and minutes.
"""

from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Iterator

from bench import cpu
from bench.appender import CaseLog, bounded
from bench.context import BenchContext
from bench.results import Check, WorkloadResult
from bench.services import Deployment, migrate
from bench.stories import Story
from bench.year import cases_in_order, first_day
from naervaer.rebuilding import rebuild_service

TITLE = "W5 projection rebuild (deadline timeline)"
TARGET_EVENTS_PER_S = 50_000
CASES_PER_TRANSACTION = 50


async def run(ctx: BenchContext) -> WorkloadResult:
    wanted = ctx.scale.rebuild_events
    deployment = Deployment(await ctx.fresh_database("w5"), ctx.work_dir / "w5")
    await migrate(deployment, ["case", "deadline"])
    ctx.say(f"W5 filling the case store with {wanted:,} events …")
    began = time.perf_counter()
    events = await fill(ctx, deployment.database_url, wanted)
    fill_s = time.perf_counter() - began
    ctx.say(f"W5 rebuilding the deadline timeline from {events:,} events …")
    began, before = time.perf_counter(), cpu.sample({"rebuild": os.getpid()})
    applied = await rebuild_service(deployment.platform(), "deadline")
    rebuild_s = time.perf_counter() - began
    spent = cpu.per_operation(before, cpu.sample({"rebuild": os.getpid()}), max(1, events))
    per_s = round(events / rebuild_s, 1)
    ctx.say(f"W5 {per_s} events/s")
    row = {
        "events": events,
        "applied": sum(applied.values()),
        "rebuild_s": round(rebuild_s, 1),
        "minutes": round(rebuild_s / 60, 2),
        "events_per_s": per_s,
        "fill_events_per_s": round(events / fill_s, 1),
        # µs of CPU per event: the rebuild (this process) and the rest (PostgreSQL, kernel).
        **{
            f"cpu_{name[:-3]}_us": round(1000 * ms, 1)
            for name, ms in spent["cpu_ms_per_op"].items()
        },
        "cores_busy": spent["cores_busy"],
    }
    return WorkloadResult(
        key="w5",
        title=TITLE,
        params={"events": wanted, "cases_per_fill_transaction": CASES_PER_TRANSACTION},
        rows=[row],
        checks=[Check("≥ 50 000 events/s", f"{per_s:,.0f}/s", per_s >= TARGET_EVENTS_PER_S)],
        notes=[
            "events_per_s counts every event replayed; applied: those the timeline uses.",
            f"Filled {CASES_PER_TRANSACTION} whole cases per transaction (not timed).",
            "cpu_*_us: CPU per event of the rebuild (one process, one connection at a time: "
            "it waits while the server works) and of the rest of the machine (PostgreSQL).",
        ],
    )


async def fill(ctx: BenchContext, database_url: str, wanted: int) -> int:
    """Append generated cases, each in one append, until ``wanted`` events are stored."""
    log = CaseLog.open(database_url, None, pool_size=ctx.scale.writers)
    stories = _stories(wanted)
    written = 0

    async def write(tales: list[Story]) -> None:
        nonlocal written
        async with log.engine.begin() as connection:
            for tale in tales:
                events = [event for _, step in tale.steps for event in step]
                await log.store.append(
                    tale.case_id,
                    events,
                    tenant=tale.tenant,
                    expected_version=0,
                    connection=connection,
                )
                written += len(events)

    try:
        chunks = iter(lambda: list(itertools.islice(stories, CASES_PER_TRANSACTION)), [])
        await bounded((functools.partial(write, chunk) for chunk in chunks), ctx.scale.writers)
    finally:
        await log.close()
    return written


def _stories(wanted: int) -> Iterator[Story]:
    """Whole cases in opening order until they hold ``wanted`` events (≈ 10 a case)."""
    produced = 0
    # More cases than needed: the year's pace stays that of ~10 events a case.
    for tale in cases_in_order(max(1, wanted // 8), first_day()):
        if produced >= wanted:
            return
        produced += tale.events
        yield tale
