"""Runs the chosen workloads one after another and writes the results file."""

from __future__ import annotations

import gc
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import calibration, w1_append, w2_batch, w3_http, w4_latency, w5_rebuild, w6_year
from bench.config import Options
from bench.context import BenchContext, bench_context
from bench.machine import load_average, machine_info, postgres_version
from bench.report import print_workload, write_results
from bench.results import WorkloadResult

Workload = Callable[[BenchContext], Awaitable[WorkloadResult]]


def workloads() -> dict[int, Workload]:
    """Every workload by number."""
    return {
        1: w1_append.run,
        2: w2_batch.run,
        3: w3_http.run,
        4: w4_latency.run,
        5: w5_rebuild.run,
        6: w6_year.run,
    }


async def run(options: Options, console: Console) -> tuple[Path, dict[str, Any]]:
    """Run ``options.workloads``; returns the results file and what it holds."""
    started = datetime.now(UTC)
    stolen_before, wall_began = calibration.steal_s(), time.monotonic()
    report: dict[str, Any] = {
        "started_at": started.isoformat(),
        "scale": options.scale.name,
        "sizes": options.scale.__dict__,
        "machine": machine_info() | {"core_speed": {"start": calibration.core_speed()}},
        # How this process, where W1's and W2's clients run, collects its garbage.
        "harness": {
            "gc_thresholds": list(gc.get_threshold()),
            "gc_frozen_objects": gc.get_freeze_count(),
        },
        "workloads": {},
    }
    chosen = workloads()
    async with bench_context(options, console) as ctx:
        report["postgres"] = {
            "version": await postgres_version(ctx.server_url),
            "fsync": ctx.fsync,
            "started_by_harness": options.database_url is None,
        }
        for number in options.workloads:
            result = await _timed(chosen[number], ctx)
            report["workloads"][result.key] = result.to_json()
            print_workload(console, result)
        report["service_settings"] = dict(ctx.service_settings)
        report["traces"] = {
            "exported": ctx.spans is not None,
            "export_requests": 0 if ctx.spans is None else ctx.spans.exports,
        }
    report["finished_at"] = datetime.now(UTC).isoformat()
    machine = report["machine"]
    machine["load_average_at_end"] = load_average()
    machine["core_speed"]["end"] = calibration.core_speed()
    machine["stolen_share"] = calibration.stolen_share(
        stolen_before, calibration.steal_s(), time.monotonic() - wall_began, machine["cores"] or 1
    )
    console.print(_speed_line(machine))
    path = write_results(options.out_dir, report, started)
    console.print(f"results: {path}")
    return path, report


async def _timed(workload: Workload, ctx: BenchContext) -> WorkloadResult:
    began = time.perf_counter()
    result = await workload(ctx)
    result.wall_s = round(time.perf_counter() - began, 1)
    return result


def _speed_line(machine: dict[str, Any]) -> str:
    speed = machine["core_speed"]
    stolen = machine["stolen_share"]
    return (
        f"core speed (bench/calibration.py): {speed['start']['rounds_per_s']:,} rounds/s at the "
        f"start, {speed['end']['rounds_per_s']:,} at the end; stolen by the hypervisor: "
        + ("not told" if stolen is None else f"{stolen:.1%} of the cores' time")
    )
