"""W6: a year of Norway — generated sick leave ingested through the store and projected.

About a million cases and ten million events by default (``--cases``): each day's commands
go through the case service's event store (one append per command, in calendar order), the
case service relays them to Kafka and the deadline service projects them into its timeline.
The personal values are sealed with each employee's key, as the case service's commands seal
them, so the deadline service asks the key vault and opens them as it would in production.
Wall time until the timeline has every event, and the peak RSS of each service process.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import os
import time
from dataclasses import dataclass

from bench import cpu
from bench.appender import CaseLog, bounded
from bench.context import BenchContext
from bench.results import Check, WorkloadResult
from bench.services import ServiceProcess, migrate, start_services, stop_services
from bench.watcher import ProjectionWatcher, install_trigger
from bench.year import Step, days, first_day
from deadline_service.adapters.projection import RELEVANT_TYPES
from naervaer.privacy.vault_setup import open_vault

TITLE = "W6 a year of Norway"
TARGET_MINUTES = 30.0
TARGET_RSS_MIB = 300.0
FULL_YEAR_CASES = 1_000_000


@dataclass
class Totals:
    cases: int = 0
    commands: int = 0
    events: int = 0
    relevant: int = 0  # events the deadline timeline takes (the others it skips)

    def count(self, steps: list[Step]) -> None:
        self.commands += len(steps)
        for step in steps:
            self.events += len(step.events)
            self.relevant += sum(event.type in RELEVANT_TYPES for event in step.events)
            self.cases += sum(event.type == "case.opened" for event in step.events)


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    deployment = ctx.deployment(
        await ctx.fresh_database("w6"), "w6", kafka=ctx.kafka(), topic_prefix="bench-w6."
    )
    await migrate(deployment, ["case", "deadline"])
    await install_trigger(deployment.database_url)
    watcher = ProjectionWatcher(deployment.database_url, keep_times=False)
    await watcher.start()
    vault = open_vault(deployment.platform())  # the services' vault and master key
    log = CaseLog.open(deployment.database_url, "bench-w6.case-events", scale.writers, vault)
    services: list[ServiceProcess] = []
    try:
        ctx.say("W6 starting the case and deadline services (Kafka mode) …")
        services = await start_services(deployment, ["case", "deadline"])
        ctx.say_started("W6", services)
        pids = _pids(ctx, services)
        before = cpu.sample(pids)
        row = await _year(ctx, log, watcher)
        # µs of CPU an event stored, by process, and the cores busy meanwhile
        events = max(1, int(str(row["events"])))
        row |= cpu.row_columns(cpu.per_operation(before, cpu.sample(pids), events))
        for service in services:
            row[f"{service.key}_peak_rss_mib"] = service.peak_rss_mib()
            row[f"{service.key}_cpu_s"] = service.cpu_seconds()
    finally:
        stop_services(services)
        await log.close()
        await watcher.stop()
    return _result(ctx, row)


def _pids(ctx: BenchContext, services: list[ServiceProcess]) -> dict[str, int]:
    """The processes whose CPU W6 tells apart: each service, the harness (it generates the
    year and appends it through the store) and the broker where the harness runs it."""
    pids = {service.key: service.pid for service in services if service.pid is not None}
    pids["harness"] = os.getpid()
    if ctx.broker_pid is not None:
        pids["broker"] = ctx.broker_pid
    return pids


async def _year(ctx: BenchContext, log: CaseLog, watcher: ProjectionWatcher) -> dict[str, object]:
    totals = Totals()
    began = time.perf_counter()
    for number, steps in enumerate(days(ctx.scale.year_cases, first_day())):
        totals.count(steps)
        by_case: dict[str, list[Step]] = collections.defaultdict(list)
        for step in steps:
            by_case[step.tale.case_id].append(step)  # a case's commands stay in order
        jobs = (functools.partial(_commands, log, case_steps) for case_steps in by_case.values())
        await bounded(jobs, ctx.scale.writers)
        if number % 30 == 29:
            ctx.say(
                f"W6 day {number + 1}: {totals.cases:,} cases, {totals.events:,} events "
                f"stored, {watcher.count:,} projected, {time.perf_counter() - began:.0f} s"
            )
    ingest_s = time.perf_counter() - began
    ctx.say(f"W6 stored {totals.events:,} events; waiting for the timeline …")
    reporter = asyncio.create_task(_report(ctx, watcher, totals.relevant, began))
    try:
        missing = await watcher.wait_for_count(totals.relevant, stall_s=120)
    finally:
        reporter.cancel()
    wall_s = max(watcher.last_at, began + ingest_s) - began
    return {
        "cases": totals.cases,
        "events": totals.events,
        "commands": totals.commands,
        "ingest_s": round(ingest_s, 1),
        "ingest_events_per_s": round(totals.events / ingest_s, 1),
        "wall_min": round(wall_s / 60, 2),
        "projected_per_s": round(watcher.count / wall_s, 1),
        "missing": missing,
    }


async def _report(
    ctx: BenchContext, watcher: ProjectionWatcher, relevant: int, began: float
) -> None:
    while True:
        await asyncio.sleep(30)
        ctx.say(
            f"W6 {watcher.count:,} of {relevant:,} events projected, "
            f"{time.perf_counter() - began:.0f} s"
        )


async def _commands(log: CaseLog, steps: list[Step]) -> None:
    for step in steps:
        await log.append(step.tale, step.events)


def _result(ctx: BenchContext, row: dict[str, object]) -> WorkloadResult:
    cases = int(str(row["cases"]))
    minutes = float(str(row["wall_min"]))
    year_minutes = round(minutes * FULL_YEAR_CASES / max(1, cases), 1)
    rss = [float(str(row[key])) for key in row if key.endswith("_peak_rss_mib") and row[key]]
    return WorkloadResult(
        key="w6",
        title=TITLE,
        params={
            "cases": ctx.scale.year_cases,
            "year": first_day().year,
            "writers": ctx.scale.writers,
            "sealed": True,  # since the thirty-eighth round; before, the year sealed nothing
        },
        rows=[row],
        checks=[
            Check(
                "< 30 min for a year (1 M cases)",
                f"{minutes} min for {cases:,} cases (≈ {year_minutes} min linear)",
                year_minutes < TARGET_MINUTES,
            ),
            Check(
                "< 300 MB RSS per service",
                ", ".join(f"{value:.0f} MiB" for value in rss) or "unknown",
                bool(rss) and max(rss) < TARGET_RSS_MIB,
            ),
        ],
        notes=[
            "wall_min: first command to the last event in the deadline timeline.",
            "sealed: the personal values sealed with each employee's key, as a command seals "
            "them (before the thirty-eighth round the year sealed nothing).",
            "cpu_*_us: CPU an event stored, from the first command to the timeline's last "
            "event: each service, the harness (generating the year and appending it through "
            "the store), the broker where the harness runs it, and the rest of the machine "
            "(other: PostgreSQL, the kernel).",
        ],
    )
