"""What handling one event costs the timeline projection in statements (issue 8), and that the
set-based timer sync keeps fired timers (exactly-once deadline events) on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.tables import timers
from deadline_service.config import Policies
from naervaer.contracts.case import ManagerReassigned
from naervaer.testing.statements import statements_sent

from ..conftest import CaseLog, NoKeys, project, project_together
from .test_projection import earlier_case, worked_example


async def _two_cases(engine: AsyncEngine, case_log: CaseLog) -> None:
    for case in (earlier_case(), worked_example()):
        await case_log.append(case.case_id, [e.payload for e in case.events])
    await project(engine, await case_log.envelopes())


async def _project_last(engine: AsyncEngine, case_log: CaseLog) -> list[str]:
    envelopes = await case_log.envelopes()
    with statements_sent(engine) as sent:
        await project(engine, envelopes[-1:])
    return [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]


async def test_an_event_costs_four_to_six_statements_however_many_timers_go(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    await _two_cases(deadline_engine, case_log)
    extension = worked_example()
    extension.extend("n1", "2018-06-30")  # changes no due date and no state
    await case_log.append("case-2018", [extension.events[-1].payload])
    sent = await _project_last(deadline_engine, case_log)
    # the case with its employee's others, the event, the case's events, the case row
    assert len(sent) == 4, sent
    await case_log.append("case-2018", [_return_to_work()])  # every pending timer goes
    sent = await _project_last(deadline_engine, case_log)
    # … and the changed obligations (one upsert: their kinds stay) and the timers (delete;
    # nothing to insert): on PostgreSQL in one statement with the case row's UPDATE
    # (``naervaer.bulk.Together``), on SQLite each on its own.
    # was 13 + one statement per timer, then 7 (the obligations deleted, then inserted)
    postgres = deadline_engine.dialect.name == "postgresql"
    assert len(sent) == (4 if postgres else 6), sent
    upserts = [s for s in sent if "ON CONFLICT (case_id, kind) DO UPDATE" in s]
    assert len(upserts) == 1, sent
    if postgres:
        assert "DELETE FROM timers" in upserts[0], upserts
        assert "UPDATE cases SET" in upserts[0], upserts


async def test_a_one_event_batch_sends_its_writes_as_one_statement_on_postgresql(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    """As the live consumer takes an event at low rates: a batch of its own, of a case that
    is its employee's only one (its rows wait for the batch's end)."""
    case = worked_example()
    await case_log.append(case.case_id, [e.payload for e in case.events])
    await project(deadline_engine, await case_log.envelopes())
    await case_log.append(case.case_id, [_return_to_work()])  # obligations and timers change
    last = (await case_log.envelopes())[-1:]
    projection = TimelineProjection(Policies(), NoKeys())
    with statements_sent(deadline_engine) as sent:
        await project_together(deadline_engine, projection, last, NoKeys(), batched=True)
    sent = [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    if deadline_engine.dialect.name == "postgresql":
        # the case's stored events, its family, then every write (``naervaer.bulk.Together``)
        assert len(sent) == 3, sent
        for part in (
            "ON CONFLICT (case_id, kind) DO UPDATE",
            "DELETE FROM timers",
            "UPDATE cases SET",
            "INSERT INTO case_events",
        ):
            assert part in sent[-1], sent
    else:  # each write on its own
        assert len(sent) == 6, sent


async def test_a_reassignment_does_not_fold_the_case_again(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    await _two_cases(deadline_engine, case_log)
    reassigned = ManagerReassigned(
        case_id="case-2018",
        previous_manager_id="mgr-1",
        manager_id="mgr-2",
        effective_on=date(2018, 2, 1),
    )
    await case_log.append("case-2018", [reassigned])
    sent = await _project_last(deadline_engine, case_log)
    assert len(sent) == 4, sent  # the family, the event, the case row, the timeline's copies
    extension = worked_example()
    extension.extend("n1", "2018-06-30")  # no due date changes, but the copies were touched
    await case_log.append("case-2018", [extension.events[-1].payload])
    sent = await _project_last(deadline_engine, case_log)
    assert len(sent) == 6, sent  # the obligations are written again, the timers are not


async def test_fired_timers_stay_whether_still_wanted_or_not(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    await _two_cases(deadline_engine, case_log)
    fired_at = datetime(2018, 1, 21, 6, tzinfo=UTC)
    async with deadline_engine.begin() as tx:  # the scheduler sent these two
        await tx.execute(
            update(timers)
            .where(timers.c.case_id == "case-2018", timers.c.stage == "approaching")
            .where(timers.c.kind.in_(["follow_up_plan", "max_date"]))
            .values(fired_at=fired_at)
        )
    extension = worked_example()
    extension.extend("n1", "2018-06-30")  # the timers stay as they are
    await case_log.append("case-2018", [extension.events[-1].payload])
    await project(deadline_engine, (await case_log.envelopes())[-1:])
    assert await _approaching(deadline_engine) == [
        ("follow_up_plan", fired_at),
        ("max_date", fired_at),
    ]  # still wanted: kept as sent, not sent again
    unfired = await _approaching(deadline_engine, fired=False)
    await case_log.append("case-2018", [_return_to_work()])  # no timer is wanted any more
    await project(deadline_engine, (await case_log.envelopes())[-1:])
    assert await _approaching(deadline_engine) == [
        ("follow_up_plan", fired_at),
        ("max_date", fired_at),
    ]  # the sent ones stay as the record
    assert unfired
    assert not await _approaching(deadline_engine, fired=False)


async def _approaching(engine: AsyncEngine, *, fired: bool = True) -> list[tuple[Any, ...]]:
    """case-2018's (kind, fired_at) of its fired "approaching" timers, or all unfired ones."""
    t = timers.c
    mine = [t.case_id == "case-2018"]
    if fired:
        mine += [t.stage == "approaching", t.fired_at.is_not(None)]
    else:
        mine += [t.fired_at.is_(None)]
    async with engine.connect() as conn:
        rows = await conn.execute(select(t.kind, t.fired_at).where(*mine))
        return sorted(tuple(row) for row in rows)


def _return_to_work() -> object:
    """case-2018's employee back at work on 10 January: no max date, no revised plan …"""
    case = worked_example()
    case.returned("2018-01-10")
    return case.events[-1].payload
