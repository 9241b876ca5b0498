"""W3: a command through HTTP — the case service under load from another process.

``naervaer serve case`` runs as a subprocess on PostgreSQL (fsync on); a worker process opens
cases, then registers sick notes (POST /v1/cases/{id}/sick-notes) with an Idempotency-Key and
If-Match, closed loop with a fixed number of requests in flight. Commands/s and p50/p99.
``--replicas`` adds rows with several case service processes in Kafka mode, as ``deploy/``
runs them, the load generator's clients spread over them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench.config import Scale
from bench.context import BenchContext
from bench.loadgen import LoadPlan, run_plan, summarise
from bench.results import Check, WorkloadResult
from bench.services import migrate, start_services, stop_services
from bench.stats import slowest
from naervaer.auth.devkeys import mint_token

TITLE = "W3 command through HTTP (case service)"
TARGET_COMMANDS_PER_S = 1_500
TARGET_P99_MS = 50.0


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    measured = [await _measure(ctx, replicas, kafka) for replicas, kafka in _setups(scale)]
    rows = [row for row, _ in measured]
    best = max(rows, key=lambda row: row["commands_per_s"])
    return WorkloadResult(
        key="w3",
        title=TITLE,
        params={
            "clients": scale.http_clients,
            "cases": scale.http_cases,
            "duration_s": scale.duration_s,
            "replicas": list(scale.http_replicas),
            **{f"{row['transport']}_{row['replicas']}": params for row, params in measured},
        },
        rows=rows,
        checks=[
            Check(
                "≥ 1 500 commands/s",
                f"{best['commands_per_s']:,.0f}/s ({_described(best)})",
                best["commands_per_s"] >= TARGET_COMMANDS_PER_S,
            ),
            Check(
                "p99 < 50 ms",
                f"{best['p99_ms']} ms ({_described(best)})",
                best["p99_ms"] < TARGET_P99_MS,
            ),
        ],
        notes=[
            "Closed loop: p99 includes queueing behind the requests in flight.",
            "replicas: case service processes, each client bound to one of them; transport: "
            "embedded (one process alone) or Kafka mode (the harness's broker), as deploy/ "
            "runs replicas.",
            "cpu_*_ms: CPU per command (warm-up included) of the case service (all replicas), "
            "the broker (where the harness runs it), the load generator and the rest of the "
            "machine (PostgreSQL, kernel); cpu_ceiling_per_s: commands/s at which that CPU "
            "would fill every core.",
            "db_commits_per_command: transactions the database committed per command in the "
            "timed loop (every service's, pg_stat_database): the store's group commit lowers it.",
        ],
    )


def _setups(scale: Scale) -> list[tuple[int, bool]]:
    """(replicas, Kafka mode) of each row: one replica alone on the embedded transport, more
    in Kafka mode; with more, also one in Kafka mode, so that what Kafka mode costs and what
    the replicas gain show apart."""
    setups = [(replicas, replicas > 1) for replicas in scale.http_replicas]
    if any(kafka for _, kafka in setups) and (1, True) not in setups:
        first_kafka = next(i for i, (_, kafka) in enumerate(setups) if kafka)
        setups.insert(first_kafka, (1, True))
    return setups


async def _measure(
    ctx: BenchContext, replicas: int, in_kafka_mode: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One row: ``replicas`` case service processes on a fresh database under the load."""
    scale = ctx.scale
    kafka = ctx.kafka() if in_kafka_mode else None
    deployment = ctx.deployment(
        await ctx.fresh_database(f"w3_{replicas}"),
        f"w3-{replicas}",
        kafka=kafka,
        topic_prefix=f"bench-w3-{replicas}.",
    )
    await migrate(deployment, ["case"])
    token = mint_token(deployment.data_dir, tenant="bench", roles=["hr"], sub="hr-bench")
    ctx.say(f"W3 starting {_processes(replicas, kafka is not None)} …")
    services = await start_services(deployment, ["case"], replicas=replicas)
    ctx.say_started("W3", services)
    try:
        plan = LoadPlan(
            base_urls=tuple(service.base_url for service in services),
            token=token,
            clients=scale.http_clients,
            cases=scale.http_cases,
            warmup_s=scale.warmup_s,
            duration_s=scale.duration_s,
            service_pids=tuple(service.pid for service in services if service.pid is not None),
            broker_pid=ctx.broker_pid if kafka is not None else None,
            database_url=deployment.database_url,
        )
        ctx.say(f"W3 opening {plan.cases} cases, then {plan.duration_s:g} s of sick notes …")
        result = await _in_worker(plan)
        peak_rss = max((service.peak_rss_mib() or 0.0) for service in services)
        cpu = round(sum((service.cpu_seconds() or 0.0) for service in services), 2)
    finally:
        stop_services(services)
    timed, statuses = summarise(result)
    latency = timed.latencies.summary(50, 99)
    row = {
        "replicas": replicas,
        "transport": "kafka" if kafka is not None else "embedded",
        "clients": scale.http_clients,
        "cases": result["opened"],
        "commands": timed.operations,
        "commands_per_s": timed.per_second(),
        **latency,
        "non_200": sum(n for status, n in statuses.items() if status != 200),
        "service_peak_rss_mib": peak_rss,
        "service_cpu_s": cpu,
        "db_commits_per_command": result["commits_per_command"],
        **_cpu_columns(result["cpu"]),
    }
    ctx.say(f"W3 {_described(row)}: {row['commands_per_s']} commands/s, p99 {row['p99_ms']} ms")
    params = {
        "opened_cases_per_s": round(result["opened"] / result["opened_s"], 1),
        "statuses": {str(status): n for status, n in statuses.items()},
        # When the tail's requests started: clustered = a stall, spread = queueing.
        "slowest_1pct": slowest(timed.started_s, timed.latencies.samples),
    }
    return row, params


def _described(row: dict[str, Any]) -> str:
    return _processes(row["replicas"], row["transport"] == "kafka")


def _processes(replicas: int, in_kafka_mode: bool) -> str:
    services = "1 case service" if replicas == 1 else f"{replicas} case services"
    return f"{services} (Kafka mode)" if in_kafka_mode else services


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
