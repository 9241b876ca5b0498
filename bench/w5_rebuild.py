"""W5: projection rebuild — replay N events into the deadline timeline from scratch.

The case service's store is filled with N events (1 million by default; not timed), then
``naervaer rebuild deadline`` runs from the harness's process (``rebuild_service``, with the
command's default processes): it resets the timeline and replays the whole log into it,
1 000 events a batch, shared out by tenant among processes of its own when there are several
cores. Events/s and minutes.

The log is sealed as W6's year is (every event with a personal value under its employee's key),
so the rebuild asks the key vault for the keys of every batch and opens the values, as it would
in production.
The log's order (``--log-order``) matters to the rebuild: ``calendar`` (the default) is what a
year of commands leaves behind — every open case's steps interleaved day by day, as W6 writes
them — so a batch touches many cases; ``cases`` stores each generated case whole in one append
(histories imported at once), so a case's ~10 events lie together and the rebuild runs faster.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import time
import zlib
from collections.abc import Iterable, Iterator

from bench import cpu
from bench.appender import CaseLog, bounded
from bench.config import LogOrder
from bench.context import BenchContext
from bench.results import Check, WorkloadResult
from bench.services import Deployment, migrate
from bench.stories import Story
from bench.year import Step, cases_in_order, days, first_day
from naervaer.privacy.vault_setup import open_vault
from naervaer.rebuilding import default_processes, rebuild_service

TITLE = "W5 projection rebuild (deadline timeline)"
TARGET_EVENTS_PER_S = 50_000
CASES_PER_TRANSACTION = 50  # log order ``cases``
CALENDAR_WRITERS = 32  # log order ``calendar``: appends in flight (group commit joins them)
STEPS_PER_HANDOVER = 100  # steps the generator hands a writer at once
QUEUED_HANDOVERS = 4  # per writer: how far the generator may run ahead of the store


async def run(ctx: BenchContext) -> WorkloadResult:
    wanted, order = ctx.scale.rebuild_events, ctx.scale.rebuild_log_order
    deployment = Deployment(await ctx.fresh_database("w5"), ctx.work_dir / "w5")
    await migrate(deployment, ["case", "deadline"])
    ctx.say(f"W5 filling the case store with {wanted:,} events in {order} order …")
    began = time.perf_counter()
    events = await fill(ctx, deployment, wanted, order)
    fill_s = time.perf_counter() - began
    ctx.say(f"W5 rebuilding the deadline timeline from {events:,} events …")
    processes = default_processes()
    rebuilder = {"rebuild": os.getpid()}
    began, before = time.perf_counter(), cpu.sample(rebuilder, with_children=rebuilder)
    applied = await rebuild_service(deployment.platform(), "deadline", processes=processes)
    rebuild_s = time.perf_counter() - began
    after = cpu.sample(rebuilder, with_children=rebuilder)
    spent = cpu.per_operation(before, after, max(1, events))
    per_s = round(events / rebuild_s, 1)
    ctx.say(f"W5 {per_s} events/s")
    row = {
        "log_order": order,
        "processes": processes,
        "events": events,
        "applied": sum(applied.values()),
        "rebuild_s": round(rebuild_s, 1),
        "minutes": round(rebuild_s / 60, 2),
        "events_per_s": per_s,
        "fill_events_per_s": round(events / fill_s, 1),
        # µs of CPU per event: the rebuild (this process) and the rest (PostgreSQL, kernel).
        **cpu.row_columns(spent),
    }
    return WorkloadResult(
        key="w5",
        title=TITLE,
        params={
            "events": wanted,
            "log_order": order,
            "sealed": True,  # the fill always seals (since the thirty-eighth round)
            **_fill_params(order, ctx.scale.writers),
        },
        rows=[row],
        checks=[Check("≥ 50 000 events/s", f"{per_s:,.0f}/s", per_s >= TARGET_EVENTS_PER_S)],
        notes=[
            "events_per_s counts every event replayed; applied: those the timeline uses.",
            _fill_note(order),
            "processes: the rebuild's (naervaer rebuild's default: the cores, at most 4); "
            "with more than one, each replays a share of the tenants.",
            "cpu_*_us: CPU per event of the rebuild (this process and its shares' processes) "
            "and of the rest of the machine (PostgreSQL).",
        ],
    )


def _fill_params(order: LogOrder, writers: int) -> dict[str, int]:
    if order == "cases":
        return {"cases_per_fill_transaction": CASES_PER_TRANSACTION}
    return {"fill_writers": CALENDAR_WRITERS}


def _fill_note(order: LogOrder) -> str:
    if order == "cases":
        return f"Log order cases: {CASES_PER_TRANSACTION} whole cases per fill transaction."
    return (
        "Log order calendar: a year's steps (one command's events each) day by day, as W6 "
        f"writes them, each step one append, {CALENDAR_WRITERS} in flight; the fill stops at "
        "N events, so the last cases' later steps are left out."
    )


async def fill(ctx: BenchContext, deployment: Deployment, wanted: int, order: LogOrder) -> int:
    """Store about ``wanted`` events (whole steps or cases) in ``order``, sealed as the case
    service's commands seal them (W6's year is); how many were."""
    vault = open_vault(deployment.platform())  # the services' vault and master key
    log = CaseLog.open(deployment.database_url, None, ctx.scale.writers, vault)
    try:
        if order == "cases":
            return await _fill_whole_cases(log, wanted, ctx.scale.writers)
        return await _fill_calendar(log, wanted, CALENDAR_WRITERS)
    finally:
        await log.close()


async def _fill_calendar(log: CaseLog, wanted: int, writers: int) -> int:
    """The year's steps in calendar order, each writer appending its own cases' steps in turn,
    a step an append, as the case service's commands would: the store's group commit joins the
    appends in flight in one transaction (one transaction of 100 steps each instead held the
    log's head lock for all of them, so 8 writers ran one at a time at ~250 events/s).

    Bounded queues keep memory flat: the generator waits while a writer is behind. Writers
    run side by side, so the stored log is in calendar order only to within the steps in
    flight; each case's steps are in their order, as its one writer appended them.
    """
    queues = [asyncio.Queue[list[Step] | None](QUEUED_HANDOVERS) for _ in range(writers)]
    written = 0

    async def write(queue: asyncio.Queue[list[Step] | None]) -> None:
        nonlocal written
        while (steps := await queue.get()) is not None:
            for step in steps:
                await log.append(step.tale, step.events)
            written += sum(len(step.events) for step in steps)

    # A failing writer cancels the others and the generator; its error is raised (in a group).
    async with asyncio.TaskGroup() as group:
        for queue in queues:
            group.create_task(write(queue))
        for writer, steps in handovers(calendar_steps(wanted), writers):
            await queues[writer].put(steps)
            await asyncio.sleep(0)  # let the writers send while the generator works
        for queue in queues:
            await queue.put(None)
    return written


def calendar_steps(wanted: int) -> Iterator[Step]:
    """A year's steps day by day until they hold ``wanted`` events (whole steps).

    Enough cases that the year holds a little more than ``wanted`` (≈ 9.6 events a case); the
    steps past it, the last days' (mostly later steps of long cases), are not written.
    """
    produced = 0
    for steps in days(max(1, wanted // 9), first_day()):
        for step in steps:
            if produced >= wanted:
                return
            produced += len(step.events)
            yield step


def handovers(
    steps: Iterable[Step], writers: int, size: int = STEPS_PER_HANDOVER
) -> Iterator[tuple[int, list[Step]]]:
    """Steps in groups of up to ``size``, each with its writer: a case always goes to the same
    writer (by a stable hash of its id), so its steps reach the store in their order."""
    pending: list[list[Step]] = [[] for _ in range(writers)]
    for step in steps:
        writer = zlib.crc32(step.tale.case_id.encode()) % writers
        pending[writer].append(step)
        if len(pending[writer]) == size:
            yield writer, pending[writer]
            pending[writer] = []
    yield from ((writer, rest) for writer, rest in enumerate(pending) if rest)


async def _fill_whole_cases(log: CaseLog, wanted: int, writers: int) -> int:
    """Append generated cases, each in one append, until ``wanted`` events are stored."""
    stories = _stories(wanted)
    written = 0

    async def write(tales: list[Story]) -> None:
        nonlocal written
        async with log.engine.begin() as connection:
            for tale in tales:
                events = [e for _, step in tale.steps for e in await log.as_stored(tale, step)]
                await log.store.append(
                    tale.case_id,
                    events,
                    tenant=tale.tenant,
                    expected_version=0,
                    connection=connection,
                )
                written += len(events)

    chunks = iter(lambda: list(itertools.islice(stories, CASES_PER_TRANSACTION)), [])
    await bounded((functools.partial(write, chunk) for chunk in chunks), writers)
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
