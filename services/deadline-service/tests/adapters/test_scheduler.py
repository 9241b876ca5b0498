"""Durable timers: each stage of each open obligation is emitted exactly once, across restarts,
retries and two schedulers running at the same time."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.scheduler import DeadlineScheduler
from deadline_service.adapters.tables import timers
from naervaer.contracts import CONTRACTS
from naervaer.contracts.deadline import DeadlineNotice
from naervaer.privacy import KEYRING
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer

from ..builders import CaseScript
from ..conftest import CaseLog, FakeClock, deadline_store, project

OSLO = ZoneInfo("Europe/Oslo")


def at(day: str) -> datetime:
    """09:00 in Oslo on ``day``."""
    return datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=OSLO)


def scheduler(engine: AsyncEngine, clock: FakeClock, vault: KeyVault) -> DeadlineScheduler:
    return DeadlineScheduler(engine, deadline_store(engine, clock), clock, Sealer(vault), zone=OSLO)


async def emitted(engine: AsyncEngine, vault: KeyVault) -> Counter[tuple[str, str, str, str]]:
    """(case, kind, stage, due date) of every deadline event in the store, counted."""
    found: Counter[tuple[str, str, str, str]] = Counter()
    envelopes = await deadline_store(engine).read_all(0, 100_000)
    await KEYRING.load(envelopes, vault)
    for envelope in envelopes:
        notice = CONTRACTS.payload(envelope)
        assert isinstance(notice, DeadlineNotice)
        stage = envelope.type.removeprefix("deadline.")
        found[(notice.case_id, notice.kind, stage, notice.due_date.isoformat())] += 1
    return found


async def _sick_case(log: CaseLog, engine: AsyncEngine, case_id: str = "case-1") -> CaseScript:
    case = CaseScript("2025-03-03", case_id=case_id)
    case.note("2025-03-03", "2025-12-31")
    await log.append(case_id, [e.payload for e in case.events])
    return case


async def test_stages_fire_once_each_and_survive_a_restart(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    await _sick_case(case_log, deadline_engine)
    await project(deadline_engine, await case_log.envelopes())
    clock = FakeClock(at("2025-03-24"))

    assert await scheduler(deadline_engine, clock, vault).tick() == 3
    assert set(await emitted(deadline_engine, vault)) == {
        ("case-1", "employer_period_end", "approaching", "2025-03-18"),  # ftrl § 8-19
        ("case-1", "employer_period_end", "due", "2025-03-18"),
        ("case-1", "follow_up_plan", "approaching", "2025-03-30"),  # aml § 4-6 (3)
    }
    restarted = scheduler(
        deadline_engine, clock, vault
    )  # a new process: state only in the database
    assert await restarted.tick() == 0
    clock.set(at("2025-03-31"))
    assert await restarted.tick() == 2  # the plan's due and overdue stages
    assert set((await emitted(deadline_engine, vault)).values()) == {1}


async def test_an_obligation_fulfilled_in_time_is_never_overdue(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    case = await _sick_case(case_log, deadline_engine)
    clock = FakeClock(at("2025-03-24"))
    await project(deadline_engine, await case_log.envelopes())
    await scheduler(deadline_engine, clock, vault).tick()
    plan = CaseScript("2025-03-03", case_id=case.case_id)
    plan.plan("2025-03-26")
    await case_log.append(case.case_id, [plan.events[-1].payload])
    envelopes = await case_log.envelopes()
    await project(deadline_engine, envelopes[-1:])
    clock.set(at("2025-04-02"))
    await scheduler(deadline_engine, clock, vault).tick()
    stages = {(kind, stage) for _, kind, stage, _ in await emitted(deadline_engine, vault)}
    assert ("follow_up_plan", "approaching") in stages
    assert ("follow_up_plan", "overdue") not in stages
    assert ("plan_to_doctor", "due") in stages  # 26 March + 7 days


async def test_a_retry_after_a_lost_commit_appends_nothing_new(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """The event was appended but the timer looks unfired (as after a crash between the two,
    were they not one transaction): the command id makes the retry a no-op."""
    await _sick_case(case_log, deadline_engine)
    await project(deadline_engine, await case_log.envelopes())
    clock = FakeClock(at("2025-03-24"))
    await scheduler(deadline_engine, clock, vault).tick()
    async with deadline_engine.begin() as conn:
        await conn.execute(update(timers).values(fired_at=None))
    assert await scheduler(deadline_engine, clock, vault).tick() == 3
    assert set((await emitted(deadline_engine, vault)).values()) == {1}


async def test_two_schedulers_at_once_emit_each_stage_exactly_once(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    for number in range(12):
        await _sick_case(case_log, deadline_engine, case_id=f"case-{number:02}")
    await project(deadline_engine, await case_log.envelopes())
    clock = FakeClock(at("2026-06-30"))  # every stage of every case is due
    first, second = (
        scheduler(deadline_engine, clock, vault),
        scheduler(deadline_engine, clock, vault),
    )

    fired = await asyncio.gather(first.tick(), second.tick())

    counts = await emitted(deadline_engine, vault)
    assert sum(fired) == sum(counts.values()) == len(counts)
    assert set(counts.values()) == {1}
    per_case = Counter(case for case, *_ in counts)
    assert len(per_case) == 12
    assert len(set(per_case.values())) == 1


async def test_the_run_loop_wakes_when_the_clock_moves(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """A poll interval of a minute, yet the event follows the clock move at once."""
    await _sick_case(case_log, deadline_engine)
    await project(deadline_engine, await case_log.envelopes())
    clock = FakeClock(at("2025-03-01"))
    loop = DeadlineScheduler(
        deadline_engine, deadline_store(deadline_engine, clock), clock, Sealer(vault),
        zone=OSLO, poll_interval_s=60,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await asyncio.sleep(0)  # the first tick finds nothing due
        clock.set(at("2025-03-11"))
        loop.wake()
        deadline = asyncio.get_running_loop().time() + 10
        while not await emitted(deadline_engine, vault):
            assert asyncio.get_running_loop().time() < deadline, "the scheduler did not wake"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert set(await emitted(deadline_engine, vault)) == {
        ("case-1", "employer_period_end", "approaching", "2025-03-18")
    }


def test_timestamps_are_aware() -> None:
    assert at("2025-03-03").utcoffset() is not None
    assert at("2025-03-03").astimezone(UTC).hour == 8
