"""The timeline projection on SQLite and PostgreSQL: what it stores, and that a rebuild from
scratch (naervaer.messaging.rebuild) gives the identical timeline, timers included."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.tables import consumers, obligations, timers
from deadline_service.config import Policies, TenantPolicy
from naervaer.contracts.case import ManagerReassigned
from naervaer.messaging import rebuild

from ..builders import CaseScript
from ..conftest import CaseLog, NoKeys, project, snapshot

TABLES = ("cases", "case_events", "obligations", "timers")


def worked_example(case_id: str = "case-2018") -> CaseScript:
    case = CaseScript("2018-01-01", case_id=case_id)
    case.note("2018-01-01", "2018-03-31", note_id="n1")
    return case


def earlier_case() -> CaseScript:
    """The same employee, sick from September to November 2017 (a month before 2018)."""
    case = CaseScript("2017-09-04", case_id="case-2017")
    case.note("2017-09-04", "2017-11-30")
    case.returned("2017-12-01")
    case.close("2017-12-01")
    return case


async def due_dates(engine: AsyncEngine, case_id: str) -> dict[str, date | None]:
    """The due date of each of the case's obligations, by kind."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(obligations.c.kind, obligations.c.due_date).where(
                obligations.c.case_id == case_id
            )
        )
        return {row.kind: row.due_date for row in rows}


async def test_the_worked_example_is_stored_with_its_timers(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    case = worked_example()
    await case_log.append(case.case_id, [e.payload for e in case.events])
    await project(deadline_engine, await case_log.envelopes())
    due = await due_dates(deadline_engine, case.case_id)
    assert due["follow_up_plan"] == date(2018, 1, 28)
    assert due["max_date"] == date(2018, 12, 28)
    assert due["dialogue_meeting_3"] is None
    async with deadline_engine.connect() as conn:
        stages = (
            await conn.execute(
                select(timers.c.stage, timers.c.fire_on).where(timers.c.kind == "follow_up_plan")
            )
        ).all()
    assert sorted(stages) == [
        ("approaching", date(2018, 1, 21)),
        ("due", date(2018, 1, 28)),
        ("overdue", date(2018, 1, 29)),
    ]


async def test_a_fulfilled_obligation_loses_its_pending_timers(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    case = worked_example()
    case.plan("2018-01-20")
    await case_log.append(case.case_id, [e.payload for e in case.events])
    await project(deadline_engine, await case_log.envelopes())
    async with deadline_engine.connect() as conn:
        kinds = set((await conn.execute(select(timers.c.kind))).scalars())
    assert "follow_up_plan" not in kinds
    assert "plan_to_doctor" in kinds  # the plan now exists: it must reach the doctor


async def test_rebuild_from_scratch_gives_the_identical_timeline(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    for case in (earlier_case(), worked_example()):
        await case_log.append(case.case_id, [e.payload for e in case.events])
    reassigned = ManagerReassigned(
        case_id="case-2018",
        previous_manager_id="mgr-1",
        manager_id="mgr-2",
        effective_on=date(2018, 2, 1),
    )
    await case_log.append("case-2018", [reassigned])
    projection = await project(deadline_engine, await case_log.envelopes())
    live = await snapshot(deadline_engine, *TABLES)

    applied = await rebuild(projection, deadline_engine, consumers, case_log.store)

    assert applied == len(await case_log.envelopes())
    assert await snapshot(deadline_engine, *TABLES) == live
    assert {row[10] for row in live["obligations"] if row[0] == "case-2018"} == {"mgr-2"}


async def test_the_order_across_cases_does_not_matter(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    """Kafka keeps order per case only: the later case first must end in the same state."""
    earlier, later = earlier_case(), worked_example()
    await case_log.append(earlier.case_id, [e.payload for e in earlier.events])
    await case_log.append(later.case_id, [e.payload for e in later.events])
    envelopes = await case_log.envelopes()
    await project(deadline_engine, envelopes)
    in_log_order = await snapshot(deadline_engine, *TABLES)
    # ftrl § 8-12: the 52 sick-pay weekdays of autumn 2017 count, 196 are left in 2018
    assert (await due_dates(deadline_engine, "case-2018"))["max_date"] == date(2018, 10, 17)

    async with deadline_engine.begin() as tx:
        await TimelineProjection(Policies(), NoKeys()).reset(tx)
    later_first = sorted(envelopes, key=lambda e: e.streamid != "case-2018")
    await project(deadline_engine, later_first)
    assert await snapshot(deadline_engine, *TABLES) == in_log_order


async def test_tenant_policy_moves_policy_deadlines(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    """aml § 4-6 (3): a tenant sending plans to the doctor within 3 days, not 7."""
    case = worked_example()
    case.plan("2018-01-20")
    await case_log.append(case.case_id, [e.payload for e in case.events])
    policies = Policies({"acme": TenantPolicy(plan_to_doctor_days=3)})
    await project(deadline_engine, await case_log.envelopes(), policies)
    assert (await due_dates(deadline_engine, case.case_id))["plan_to_doctor"] == date(2018, 1, 23)
