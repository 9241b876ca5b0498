"""W4: commit → Kafka → projection latency, case and deadline services in Kafka mode.

The harness appends sick notes to the case service's store at a fixed rate; the case service's
relay publishes them to Kafka (LocalKafka unless ``--kafka``); the deadline service consumes
them into its timeline. Latency runs from the append's commit to the commit of the timeline
change, both read from PostgreSQL's commit timestamps (the harness's own server tracks them;
on another without, from the harness's clock: when the append returned and when a NOTIFY
from the deadline inbox arrived, see ``watcher``). Rates: 200 and 1 000 events/s, then the
highest sustainable rate: 80 % of the capacity a burst showed and, if that is not sustained,
a bisection between the highest rate sustained so far and the lowest not (``SEARCH_TRIES``).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import time
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bench import cpu
from bench.appender import CaseLog, bounded
from bench.batching import Rounds, read_rounds
from bench.context import BenchContext
from bench.results import Check, WorkloadResult
from bench.services import ServiceProcess, migrate, start_services, stop_services
from bench.stats import Latencies, rate
from bench.watcher import CONSUMER, ProjectionWatcher, install_trigger
from bench.year import first_day
from case_service.app.summary_projection import PROJECTION_NAME as SUMMARIES
from case_service.bootstrap import SERVICE as CASE_SERVICE
from naervaer.contracts import case as c
from naervaer.eventstore import NewEvent

TITLE = "W4 commit → Kafka → deadline timeline latency"
TARGET_RATE = 1_000
TARGET_P99_MS = 15.0
IN_FLIGHT = 32
START = first_day()  # in the future: no deadline timer fires during the run
FIRST_TRY = 0.8  # of the burst capacity: a burst outruns what the pipeline keeps up with
SEARCH_TRIES = 4
# 24 weeks: past the follow-up plan (4 weeks), the first dialogue meeting (7) and the activity
# requirement (8), before the second dialogue meeting (26); then a new case.
NOTES_PER_CASE = 12
# Each stage's events a round (``bench.batching``), by column: the case service's relay, its
# summary consumer, the deadline consumer.
ROUND_COLUMNS = {
    "relay_per_round": f"relay {CASE_SERVICE.name}",
    "summaries_per_round": SUMMARIES,
    "timeline_per_round": CONSUMER,
}
ROUNDS_WAIT_S = 30.0  # for every stage to count every event appended (``_counted``)
IDLE_S = 5.0  # of nothing appended, for the pipeline's CPU at rest (less at a shorter scale)


@dataclass(frozen=True)
class Step:
    """One event to append: to which case (stream) of which tenant."""

    case_id: str
    tenant: str
    event: NewEvent


@dataclass
class Cursor:
    """One of the run's employees: a case that a two-week sick note extends at each turn; after
    ``NOTES_PER_CASE`` notes the employee is back at work and the next turn opens a new case.

    Bounded so that every phase of the run projects cases of the same size: cases that only
    grew (a note more at every turn) made each later phase's events dearer to project (a
    timeline recomputation folds the case's whole history), so the rates were not compared
    on the same work."""

    case_id: str
    tenant: str
    notes: int = 0

    def opening(self) -> Step:
        payload = c.CaseOpened(
            case_id=self.case_id,
            employee_id=f"emp-{self.case_id[:8]}",
            manager_id="mgr-1",
            org_unit="unit-1",
            first_absence_day=START,
            began_with="sick_note",
        )
        data = payload.model_dump(mode="json")
        return Step(self.case_id, self.tenant, NewEvent("case.opened", data, event_id=uuid.uuid4()))

    def next_step(self) -> Step:
        """The next sick note (two weeks after the last one: they never overlap), or once the
        case has ``NOTES_PER_CASE`` of them, a new case's opening."""
        if self.notes == NOTES_PER_CASE:
            self.case_id, self.notes = str(uuid.uuid4()), 0
            return self.opening()
        first = START + timedelta(days=14 * self.notes)
        self.notes += 1
        payload = c.SickNoteReceived(
            case_id=self.case_id,
            sick_note_id=f"n-{self.notes}",
            period_start=first,
            period_end=first + timedelta(days=13),
            grade=100,
            kind="ordinary",
            received_on=first,
        )
        data = payload.model_dump(mode="json")
        event = NewEvent("case.sick_note_received", data, event_id=uuid.uuid4())
        return Step(self.case_id, self.tenant, event)


@dataclass
class Pipeline:
    log: CaseLog
    watcher: ProjectionWatcher
    cases: list[Cursor]
    services: list[ServiceProcess]  # their /metrics count the stages' rounds
    appended: int = 0  # events, since the services started

    async def append(self, step: Step, committed: dict[str, float]) -> None:
        await self.log.store.append(
            step.case_id, [step.event], tenant=step.tenant, expected_version=None
        )
        committed[str(step.event.event_id)] = time.perf_counter()
        self.appended += 1


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    deployment = ctx.deployment(
        await ctx.fresh_database("w4"), "w4", kafka=ctx.kafka(), topic_prefix="bench-w4."
    )
    await migrate(deployment, ["case", "deadline"])
    await install_trigger(deployment.database_url)
    watcher = ProjectionWatcher(deployment.database_url)
    await watcher.start()
    log = CaseLog.open(deployment.database_url, "bench-w4.case-events", pool_size=IN_FLIGHT)
    services: list[ServiceProcess] = []
    try:
        ctx.say("W4 starting the case and deadline services (Kafka mode) …")
        services = await start_services(deployment, ["case", "deadline"])
        ctx.say_started("W4", services)
        cases = [
            Cursor(str(uuid.uuid4()), f"employer-{i % 50:02d}") for i in range(scale.latency_cases)
        ]
        pipeline = Pipeline(log, watcher, cases, services)
        await _open_cases(ctx, pipeline)
        pids = {s.key: s.pid for s in services if s.pid is not None} | {"harness": os.getpid()}
        idle = await _idle(ctx, pipeline, pids)
        rows, capacity, burst_cpu = await _measure(ctx, pipeline, pids)
        rss = {service.key: service.peak_rss_mib() for service in services}
    finally:
        stop_services(services)
        await log.close()
        await watcher.stop()
    return _result(ctx, rows, capacity, rss, burst_cpu, idle)


async def _idle(ctx: BenchContext, pipeline: Pipeline, pids: dict[str, int]) -> dict[str, float]:
    """The CPU the pipeline spends a second with nothing appended, once every stage has
    counted the warm-up: the consumers' fetches answered empty, the relay's polls, the broker
    answering them. Every fixed rate's CPU an event includes it, spread over the rate's events
    (idle / rate)."""
    await _counted(pipeline)
    before = cpu.sample(pids)
    await asyncio.sleep(min(IDLE_S, ctx.scale.duration_s))
    idle = cpu.per_second(before, cpu.sample(pids))
    ctx.say(f"W4 idle CPU ms a second: {idle}")
    return idle


async def _open_cases(ctx: BenchContext, pipeline: Pipeline) -> None:
    """Open the cases and wait until the timeline has them: the consumer has joined its group,
    the services are warm."""
    ctx.say(f"W4 opening {len(pipeline.cases)} cases (warm-up) …")
    committed: dict[str, float] = {}
    jobs = (
        functools.partial(pipeline.append, case.opening(), committed) for case in pipeline.cases
    )
    await bounded(jobs, IN_FLIGHT)
    missing = await pipeline.watcher.wait_for(committed, stall_s=120)
    if missing:
        raise RuntimeError(f"W4: {missing} opened cases never reached the deadline timeline")


async def _measure(
    ctx: BenchContext, pipeline: Pipeline, pids: dict[str, int]
) -> tuple[list[dict[str, object]], float, dict[str, Any]]:
    rows = [await _fixed_rate(ctx, pipeline, target, pids) for target in ctx.scale.rates]
    rounds = await _counted(pipeline)
    before = cpu.sample(pids)
    capacity, projected = await _burst(ctx, pipeline)
    burst_cpu = cpu.per_operation(before, cpu.sample(pids), max(1, projected))
    burst_cpu |= await _per_round(pipeline, rounds)
    ctx.say(
        f"W4 burst CPU per event (ms): {burst_cpu['cpu_ms_per_op']}; at full cores "
        f"{burst_cpu['ceiling_per_s']} events/s"
    )
    rows.extend(await _highest_sustained(ctx, pipeline, pids, capacity, rows))
    ctx.say(f"W4 highest sustained rate: {highest_sustained(rows) or 'none'} events/s")
    return rows, capacity, burst_cpu


@dataclass
class RateSearch:
    """The search for the highest sustained rate: first ``FIRST_TRY`` of the burst's capacity;
    if that is not sustained, halve the gap between the highest rate sustained so far (of the
    fixed rates below it, or none) and the lowest not, ``SEARCH_TRIES`` runs at most."""

    target: int
    low: int = 0  # the highest rate sustained so far, below ``target``
    high: int | None = None  # the lowest rate not sustained
    tries: int = 0

    @classmethod
    def start(cls, capacity: float, sustained: list[int]) -> RateSearch:
        target = _round_rate(capacity * FIRST_TRY)
        return cls(target, low=max([rate for rate in sustained if rate < target], default=0))

    def record(self, held: bool) -> int | None:
        """The outcome of a run at ``target``; the next rate to run, or None: done."""
        self.tries += 1
        if held:
            self.low = max(self.low, self.target)
        else:
            self.high = self.target if self.high is None else min(self.high, self.target)
        if self.high is None or self.tries == SEARCH_TRIES:
            return None  # the first try held (the search goes no higher), or no tries left
        following = _round_rate((self.low + self.high) / 2)
        if following in (self.low, self.high):
            return None
        self.target = following
        return following


async def _highest_sustained(
    ctx: BenchContext,
    pipeline: Pipeline,
    pids: dict[str, int],
    capacity: float,
    fixed: list[dict[str, object]],
) -> list[dict[str, object]]:
    """The runs of a ``RateSearch`` after the fixed rates' runs (``fixed``)."""
    search = RateSearch.start(capacity, [int(str(r["rate"])) for r in fixed if r["sustained"]])
    rows: list[dict[str, object]] = []
    target: int | None = search.target
    while target is not None:
        row = await _fixed_rate(ctx, pipeline, target, pids)
        held = bool(row["sustained"])
        rows.append({**row, "note": "search: sustained" if held else "search: not sustained"})
        target = search.record(held)
    return rows


def highest_sustained(rows: list[dict[str, object]]) -> int | None:
    """The highest rate of ``rows`` that was sustained; None if none was."""
    return max((int(str(row["rate"])) for row in rows if row["sustained"]), default=None)


def _round_rate(per_s: float) -> int:
    return max(10, int(per_s) // 10 * 10)


async def _fixed_rate(
    ctx: BenchContext, pipeline: Pipeline, target: int, pids: dict[str, int]
) -> dict[str, object]:
    """Append at ``target`` events/s for the duration (open loop: the schedule does not wait
    for the projection), then wait for the timeline to catch up. With the CPU each event cost
    the two services and the whole machine, from the first append until all were projected."""
    ctx.say(f"W4 {target} events/s for {ctx.scale.duration_s:g} s …")
    count = max(1, int(target * ctx.scale.duration_s))
    committed: dict[str, float] = {}
    cases = itertools.cycle(pipeline.cases)
    gate = asyncio.Semaphore(IN_FLIGHT)
    tasks: list[asyncio.Task[None]] = []
    rounds = await _counted(pipeline)
    before = cpu.sample(pids)
    began = time.perf_counter()
    for index in range(count):
        if (delay := began + index / target - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        step = next(cases).next_step()
        tasks.append(asyncio.create_task(_released(gate, pipeline.append(step, committed))))
    await asyncio.gather(*tasks)
    appended_s = time.perf_counter() - began
    missing = await pipeline.watcher.wait_for(committed, stall_s=30)
    spent = cpu.per_operation(before, cpu.sample(pids), count)["cpu_ms_per_op"]
    per_round = await _per_round(pipeline, rounds)
    latencies, clock = await _commit_to_commit(pipeline.log, committed), "server"
    if latencies is None:  # a server without commit timestamps: the harness's own clock
        latencies, clock = _latencies(pipeline.watcher, committed), "harness"
    summary = latencies.summary(50, 95, 99, 100)
    sustained = missing == 0 and count / appended_s >= 0.95 * target and summary["p99_ms"] < 1000
    return {
        "rate": target,
        "appended_per_s": rate(count, appended_s),
        "events": count,
        **summary,
        **await _stages(pipeline.log, committed),
        "missing": missing,
        "sustained": sustained,
        "clock": clock,
        "case_cpu_ms": spent.get("case_ms"),
        "deadline_cpu_ms": spent.get("deadline_ms"),
        "cpu_ms": spent["total_ms"],
        **per_round,
    }


async def _per_round(pipeline: Pipeline, since: Rounds) -> dict[str, float | None]:
    """Each stage's events a round since ``since`` (None: it had no round), once each has
    counted every event appended (``_counted``)."""
    stages = (await _counted(pipeline)).per_round_since(since)
    return {column: stages.get(stage) for column, stage in ROUND_COLUMNS.items()}


async def _counted(pipeline: Pipeline) -> Rounds:
    """The stages' rounds once each has counted every event the harness appended so far
    (``ROUNDS_WAIT_S`` at most): the deadline timeline may have them all before the case
    summaries do, and the relay counts a batch once it has marked it, so a reading taken as
    soon as the timeline has a run's events would leave that run's last rounds, or the
    warm-up's, to the next run's figures."""
    deadline = time.monotonic() + ROUNDS_WAIT_S
    while True:
        now = await read_rounds(pipeline.services)
        counted = all(now.items[stage] >= pipeline.appended for stage in ROUND_COLUMNS.values())
        if counted or time.monotonic() > deadline:
            return now
        await asyncio.sleep(0.1)


async def _burst(ctx: BenchContext, pipeline: Pipeline) -> tuple[float, int]:
    """Append as fast as the store takes it; the timeline's throughput is the capacity
    (events/s), and how many events it projected."""
    count = ctx.scale.burst_events
    ctx.say(f"W4 burst of {count} events to find the capacity …")
    committed: dict[str, float] = {}
    cases = itertools.cycle(pipeline.cases)
    steps = [case.next_step() for case in itertools.islice(cases, count)]
    began = time.perf_counter()
    jobs = (functools.partial(pipeline.append, step, committed) for step in steps)
    await bounded(jobs, IN_FLIGHT)
    await pipeline.watcher.wait_for(committed, stall_s=30)
    done = [
        pipeline.watcher.projected_at[e] for e in committed if e in pipeline.watcher.projected_at
    ]
    capacity = rate(len(done), max(done) - began) if done else 0.0
    ctx.say(f"W4 burst: the timeline kept up with {capacity} events/s")
    return capacity, len(done)


async def _released(gate: asyncio.Semaphore, work: Awaitable[None]) -> None:
    try:
        await work
    finally:
        gate.release()


STAGES = """
SELECT extract(epoch FROM o.published_at - o.created_at) AS relay,
       extract(epoch FROM i.handled_at - o.published_at) AS delivery
FROM case_service.events AS e
JOIN deadline_service.inbox AS i ON i.event_id = e.event_id AND i.consumer = :consumer
CROSS JOIN LATERAL (  -- the append's row: the last one starting at or before the event
    SELECT o.created_at, o.published_at, o.global_position, o.last_position
    FROM case_service.outbox AS o
    WHERE o.global_position <= e.global_position
    ORDER BY o.global_position DESC
    LIMIT 1
) AS o
WHERE e.event_id = ANY(CAST(:ids AS uuid[]))
  AND coalesce(o.last_position, o.global_position) >= e.global_position
  AND o.published_at IS NOT NULL
"""
# The row is found by one descent of the outbox's primary key. A join on ``BETWEEN`` its
# range scanned the outbox from its start for every event: 150 s for 30 000 events of a
# 60 000-row outbox, which made each of W4's later runs minutes longer.


async def _stages(log: CaseLog, committed: dict[str, float]) -> dict[str, float]:
    """Where the latency went, from the rows' own wall-clock stamps: append → acknowledged by
    Kafka (``outbox.published_at``), then → the deadline consumer starts the event
    (``inbox.handled_at``); the rest of the total is the projection's own transaction.

    The relay marks a row published after Kafka's acknowledgement, so a quick consumer can
    have handled an event whose row is not marked yet: such events are left out here."""
    statement = text(STAGES)
    ids = [uuid.UUID(event_id) for event_id in committed]
    async with log.engine.connect() as connection:
        rows = (await connection.execute(statement, {"ids": ids, "consumer": CONSUMER})).all()
    relay, delivery = Latencies(), Latencies()
    for row in rows:
        relay.add(float(row.relay))
        delivery.add(float(row.delivery))
    return {
        "relay_p50_ms": relay.summary(50)["p50_ms"],
        "delivery_p50_ms": delivery.summary(50)["p50_ms"],
    }


COMMIT_TO_COMMIT = """
SELECT extract(epoch FROM pg_xact_commit_timestamp(i.xmin) - pg_xact_commit_timestamp(e.xmin))
       AS latency
FROM case_service.events AS e
JOIN deadline_service.inbox AS i ON i.event_id = e.event_id AND i.consumer = :consumer
WHERE e.event_id = ANY(CAST(:ids AS uuid[]))
"""
# The ids as one array, not a bound value each: a 45 s run at 920 events/s names 41 400
# events, more than the 32 767 values a statement may bind (so in ``STAGES`` too).


async def _commit_to_commit(log: CaseLog, committed: dict[str, float]) -> Latencies | None:
    """Each event's latency from the append's commit to the commit of the timeline change
    (its inbox row is written in that transaction), both on the server's clock; None when
    the server keeps no commit timestamps (``track_commit_timestamp``, on in the harness's
    own PostgreSQL).

    The harness's own stamps would be taken when ``append`` returns and the NOTIFY is read,
    on a loop busy with 32 appends in flight: late by however long the loop took to get
    there, at both ends."""
    statement = text(COMMIT_TO_COMMIT)
    ids = [uuid.UUID(event_id) for event_id in committed]
    async with log.engine.connect() as connection:
        if (await connection.scalar(text("SHOW track_commit_timestamp"))) != "on":
            return None
        rows = (await connection.execute(statement, {"ids": ids, "consumer": CONSUMER})).all()
    latencies = Latencies()
    latencies.extend([max(0.0, float(row.latency)) for row in rows])
    return latencies


def _latencies(watcher: ProjectionWatcher, committed: dict[str, float]) -> Latencies:
    latencies = Latencies()
    for event_id, at in committed.items():
        if event_id in watcher.projected_at:
            latencies.add(max(0.0, watcher.projected_at[event_id] - at))
    return latencies


def _result(
    ctx: BenchContext,
    rows: list[dict[str, object]],
    capacity: float,
    rss: dict[str, float | None],
    burst_cpu: dict[str, Any],
    idle: dict[str, float],
) -> WorkloadResult:
    at_target = next((row for row in rows if row["rate"] == TARGET_RATE), None)
    p99 = None if at_target is None else float(str(at_target["p99_ms"]))
    return WorkloadResult(
        key="w4",
        title=TITLE,
        params={
            "rates": list(ctx.scale.rates),
            "duration_s": ctx.scale.duration_s,
            "cases": ctx.scale.latency_cases,
            "burst_capacity_per_s": capacity,
            "kafka_partitions": 6,
            "peak_rss_mib": rss,
            # CPU per event through the whole pipeline during the burst, by process.
            "burst_cpu": burst_cpu,
            "idle_cpu_ms_per_s": idle,
            "highest_sustained_per_s": highest_sustained(rows),
            "search_tries": SEARCH_TRIES,
        },
        rows=rows,
        checks=[
            Check(
                "p99 < 15 ms at 1 000 events/s",
                "not run" if p99 is None else f"{p99} ms",
                None if p99 is None else p99 < TARGET_P99_MS,
            )
        ],
        notes=[
            "Latency: append commit → deadline inbox+timeline commit. clock 'server': both "
            "commits' timestamps (track_commit_timestamp); 'harness': when append returned "
            "and the inbox's NOTIFY was read, on the harness's busy loop.",
            "sustained: all projected, ≥ 95 % of the rate appended, p99 under 1 s. Rows noted "
            f"'search:' look for the highest sustainable rate: {FIRST_TRY:.0%} of the burst "
            "capacity, then halving the gap between the highest rate sustained and the lowest "
            f"not ({SEARCH_TRIES} runs at most); params.highest_sustained_per_s.",
            "case_cpu_ms, deadline_cpu_ms, cpu_ms: CPU ms per event of the case service, the "
            "deadline service and the whole machine, from the first append until all were "
            "projected.",
            "burst_cpu: CPU ms per event during the burst by process (harness: the appends; "
            "other: PostgreSQL, the broker, the kernel); ceiling_per_s: events/s at full cores.",
            "idle_cpu_ms_per_s: CPU ms a second by process with nothing appended, after the "
            "warm-up (the consumers' empty fetches, the relay's polls): a fixed rate's CPU an "
            "event includes idle / rate of it.",
            "relay_per_round, summaries_per_round, timeline_per_round: events a round of the "
            "case service's relay (a published batch), its summary consumer and the deadline "
            "consumer (a transaction), from the services' /metrics, from the first append "
            "until every stage has counted the run's events (burst_cpu's: the burst's): a "
            "round's round trips are paid however few events it carries.",
        ],
    )
