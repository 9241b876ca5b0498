"""W3: a command through HTTP — the case service under load from another process.

``naervaer serve case`` runs as a subprocess on PostgreSQL (fsync on); a worker process opens
cases, then registers sick notes (POST /v1/cases/{id}/sick-notes) with an Idempotency-Key and
If-Match, closed loop with a fixed number of requests in flight. Commands/s and p50/p99.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.context import BenchContext
from bench.loadgen import LoadPlan, run_plan, summarise
from bench.results import Check, WorkloadResult
from bench.services import Deployment, migrate, start_services, stop_services
from bench.stats import slowest
from naervaer.auth.devkeys import mint_token

TITLE = "W3 command through HTTP (case service)"
TARGET_COMMANDS_PER_S = 1_500
TARGET_P99_MS = 50.0


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    deployment = Deployment(
        await ctx.fresh_database("w3"), ctx.work_dir / "w3", otlp_endpoint=ctx.otlp_endpoint
    )
    await migrate(deployment, ["case"])
    token = mint_token(deployment.data_dir, tenant="bench", roles=["hr"], sub="hr-bench")
    ctx.say("W3 starting the case service …")
    (service,) = await start_services(deployment, ["case"])
    ctx.say_started("W3", [service])
    try:
        plan = LoadPlan(
            base_url=service.base_url,
            token=token,
            clients=scale.http_clients,
            cases=scale.http_cases,
            warmup_s=scale.warmup_s,
            duration_s=scale.duration_s,
            service_pid=service.pid,
        )
        ctx.say(f"W3 opening {plan.cases} cases, then {plan.duration_s:g} s of sick notes …")
        result = await _in_worker(plan)
        peak_rss, cpu = service.peak_rss_mib(), service.cpu_seconds()
    finally:
        stop_services([service])
    timed, statuses = summarise(result)
    latency = timed.latencies.summary(50, 99)
    row = {
        "clients": scale.http_clients,
        "cases": result["opened"],
        "commands": timed.operations,
        "commands_per_s": timed.per_second(),
        **latency,
        "non_200": sum(n for status, n in statuses.items() if status != 200),
        "service_peak_rss_mib": peak_rss,
        "service_cpu_s": cpu,
        **_cpu_columns(result["cpu"]),
    }
    ctx.say(f"W3 {row['commands_per_s']} commands/s, p99 {latency['p99_ms']} ms")
    return WorkloadResult(
        key="w3",
        title=TITLE,
        params={
            "clients": scale.http_clients,
            "cases": scale.http_cases,
            "duration_s": scale.duration_s,
            "opened_cases_per_s": round(result["opened"] / result["opened_s"], 1),
            "statuses": {str(status): n for status, n in statuses.items()},
            # When the tail's requests started: clustered = a stall, spread = queueing.
            "slowest_1pct": slowest(timed.started_s, timed.latencies.samples),
        },
        rows=[row],
        checks=[
            Check(
                "≥ 1 500 commands/s",
                f"{timed.per_second():,.0f}/s",
                timed.per_second() >= TARGET_COMMANDS_PER_S,
            ),
            Check(
                "p99 < 50 ms",
                f"{latency['p99_ms']} ms",
                latency["p99_ms"] < TARGET_P99_MS,
            ),
        ],
        notes=[
            "Closed loop: p99 includes queueing behind the requests in flight.",
            "cpu_*_ms: CPU per command (warm-up included) of the case service, the load "
            "generator and the rest of the machine (PostgreSQL, kernel); cpu_ceiling_per_s: "
            "commands/s at which that CPU would fill every core.",
        ],
    )


def _cpu_columns(spent: dict[str, Any]) -> dict[str, Any]:
    per_command = spent["cpu_ms_per_op"]
    return {f"cpu_{name}": value for name, value in per_command.items()} | {
        "cores_busy": spent["cores_busy"],
        "cpu_ceiling_per_s": spent["ceiling_per_s"],
    }


async def _in_worker(plan: LoadPlan) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, run_plan, plan)
