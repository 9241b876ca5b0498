"""The case row's known sick-pay days (what a later case of the employee counts, ftrl § 8-12)
follow the facts: written when they change, left as they are when an event does not change
them (issue 8: a long absence has hundreds, rendered and sent at every event before), and a
change still reaches the employee's later case; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.tables import cases, consumers
from deadline_service.config import Policies
from naervaer.messaging import rebuild
from naervaer.testing.statements import statements_sent

from ..builders import CaseScript
from ..conftest import CaseLog, NoKeys, project, snapshot
from .test_projection import due_dates

TABLES = ("cases", "obligations", "timers")


async def _days(engine: AsyncEngine, case_id: str) -> list[str]:
    async with engine.connect() as conn:
        query = select(cases.c.sick_pay_days).where(cases.c.case_id == case_id)
        return list((await conn.execute(query)).scalar_one())


async def _more(case_log: CaseLog, engine: AsyncEngine, script: CaseScript, seen: int) -> None:
    """Store the script's events after the first ``seen`` and project them."""
    await case_log.append(script.case_id, [e.payload for e in script.events[seen:]])
    fresh = [e for e in await case_log.envelopes() if e.streamid == script.case_id]
    await project(engine, fresh[seen:])


async def test_the_row_keeps_the_days_the_facts_show_as_they_change(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    case = CaseScript("2018-01-01", case_id="case-days")
    case.note("2018-01-01", "2018-01-31", note_id="n1")
    await _more(case_log, deadline_engine, case, 0)
    # the employer period is 1-16 January: the weekdays from the 17th to the 31st
    january = ["2018-01-17", "2018-01-18", "2018-01-19"] + [f"2018-01-{d}" for d in range(22, 27)]
    assert await _days(deadline_engine, "case-days") == [
        *january,
        "2018-01-29",
        "2018-01-30",
        "2018-01-31",
    ]

    seen = len(case.events)
    case.plan("2018-01-20")  # the timeline changes, the days do not
    with statements_sent(deadline_engine) as sent:
        await _more(case_log, deadline_engine, case, seen)
    # (on PostgreSQL the UPDATE is a part of one statement with the timeline's writes)
    updates = [s for s in sent if "UPDATE cases SET" in s]
    assert updates, sent
    assert not any("sick_pay_days" in s for s in updates), updates
    assert len(await _days(deadline_engine, "case-days")) == 11

    seen = len(case.events)
    case.correct("n1", "2018-01-01", "2018-01-24", 100)
    await _more(case_log, deadline_engine, case, seen)
    assert await _days(deadline_engine, "case-days") == january[:6]

    live = await snapshot(deadline_engine, *TABLES)
    await rebuild(
        TimelineProjection(Policies(), NoKeys()), deadline_engine, consumers, case_log.store
    )
    assert await snapshot(deadline_engine, *TABLES) == live


async def test_fewer_days_of_an_earlier_case_move_the_later_cases_max_date(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    earlier = CaseScript("2017-09-04", case_id="case-2017")
    earlier.note("2017-09-04", "2017-11-30", note_id="autumn")
    earlier.returned("2017-12-01")
    later = CaseScript("2018-01-01", case_id="case-2018")
    later.note("2018-01-01", "2018-03-31")
    await _more(case_log, deadline_engine, earlier, 0)
    await _more(case_log, deadline_engine, later, 0)
    # 52 sick-pay weekdays of autumn 2017 count (as in test_projection)
    assert (await due_dates(deadline_engine, "case-2018"))["max_date"] == date(2018, 10, 17)

    seen = len(earlier.events)
    earlier.correct("autumn", "2017-09-04", "2017-10-31", 100)  # November's 22 weekdays go
    await _more(case_log, deadline_engine, earlier, seen)
    assert (await _days(deadline_engine, "case-2017"))[-1] == "2017-10-31"
    # 30 earlier days count now: the 248th sick-pay day comes 22 weekdays later
    assert (await due_dates(deadline_engine, "case-2018"))["max_date"] == date(2018, 11, 16)
