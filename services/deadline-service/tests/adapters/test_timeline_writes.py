"""Writing only what the digest says differs (issue 8) leaves the rows that rewriting every
obligation and re-syncing every timer leaves, on SQLite and PostgreSQL: random timelines
written in turn, with the scheduler firing timers in between, and cases written together."""

from __future__ import annotations

import functools
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters import repository as repo
from deadline_service.adapters.digest import TimerKey, compare
from deadline_service.adapters.repository import CaseHeader
from deadline_service.adapters.tables import cases, obligations, timers
from deadline_service.adapters.writes import CaseWrite, write_cases
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.timeline import Obligation
from naervaer.bulk import insert_rows, update_rows

START = date(2024, 1, 8)
KINDS = ("employer_period_end", "follow_up_plan", "dialogue_meeting_1", "max_date")
STAGES = ("approaching", "due", "overdue")
FIRED_AT = datetime(2024, 2, 1, 6, tzinfo=UTC)


class Timeline(NamedTuple):
    found: list[Obligation]
    rows: list[dict[str, Any]]
    wanted: dict[TimerKey, date]


def _timeline(rng: random.Random, case: CaseHeader) -> Timeline:
    """Obligations, their rows and wanted timers that change a little from one call to the
    next."""
    kinds = KINDS if rng.random() > 0.1 else KINDS[: rng.randint(0, 3)]
    found = [
        Obligation(
            ObligationKind(kind),
            START + timedelta(days=rng.randint(0, 3) * 7),
            rng.choice((State.OPEN, State.OPEN, State.FULFILLED)),
            Responsible.EMPLOYER,
            "aml § 4-6",
            rng.choice((None, "e1")),
            kind == "max_date",
            "2024-01",
        )
        for kind in kinds
    ]
    wanted: dict[TimerKey, date] = {
        (o.kind.value, stage, o.due_date): o.due_date - timedelta(days=lead)
        for o in found
        if o.state is State.OPEN and o.due_date is not None
        for stage, lead in zip(STAGES, (rng.choice((3, 7)), 0, -1), strict=True)
    }
    return Timeline(found, [repo.obligation_row(case, o) for o in found], wanted)


async def _write(engine: AsyncEngine, writes: list[CaseWrite]) -> None:
    async with engine.begin() as tx:
        await write_cases(tx, writes)


async def _digests(engine: AsyncEngine, ids: list[str]) -> dict[str, str | None]:
    async with engine.connect() as conn:
        query = select(cases.c.case_id, cases.c.timeline_digest).where(cases.c.case_id.in_(ids))
        return {row.case_id: row.timeline_digest for row in await conn.execute(query)}


async def _fire_some(engine: AsyncEngine, rng: random.Random) -> None:
    """The scheduler marks some due timers fired (the same ones on both sides)."""
    due = START + timedelta(days=rng.randint(0, 21))
    async with engine.begin() as tx:
        await tx.execute(
            update(timers)
            .where(timers.c.fired_at.is_(None), timers.c.fire_on <= due)
            .values(fired_at=FIRED_AT)
        )


async def _tables(engine: AsyncEngine, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of the cases of ``prefix``, their case ids without it."""
    found = {}
    async with engine.connect() as conn:
        for table in (obligations, timers):
            rows = await conn.execute(select(table).where(table.c.case_id.like(f"{prefix}%")))
            found[table.name] = sorted((r[0].removeprefix(prefix), *r[1:]) for r in rows)
    return found


def _header(case_id: str, digest: str | None, manager: str = "mgr") -> CaseHeader:
    return CaseHeader(case_id, "acme", "emp", manager, "unit", START, (), None, None, digest)


async def test_writing_the_differences_leaves_the_rows_of_writing_everything(
    deadline_engine: AsyncEngine,
) -> None:
    names = [f"{i}" for i in range(5)]
    async with deadline_engine.begin() as tx:
        await tx.execute(
            insert(cases),
            [
                {"case_id": f"{side}{n}", "tenant": "acme", "employee_id": "emp",
                 "manager_id": "mgr", "org_unit": "unit", "version": 1,
                 "updated_at": FIRED_AT, "sick_pay_days": []}
                for side in ("diff-", "full-") for n in names
            ],
        )  # fmt: skip
    rng = random.Random(8)
    for step in range(40):
        together = rng.sample(names, rng.randint(1, len(names)))  # one batch's cases
        digests = await _digests(deadline_engine, [f"diff-{n}" for n in together])
        diff, full = [], []
        for n in together:
            manager = rng.choice(("mgr", "mgr", "mgr-2"))  # another: every row is written
            case = _header(f"diff-{n}", digests[f"diff-{n}"], manager)
            seed = rng.random()
            t = _timeline(random.Random(seed), case)
            row_of = functools.partial(repo.obligation_row, case)
            change = compare(
                case.timeline_digest, repo.case_values(case), t.found, t.wanted, row_of
            )
            diff.append(CaseWrite.of(case, {"timeline_digest": change.digest}, change))
            full_case = _header(f"full-{n}", None, manager)
            whole = _timeline(random.Random(seed), full_case)
            full.append(CaseWrite(full_case, {}, obligations=whole.rows, timers=whole.wanted))
        await _write(deadline_engine, diff)
        await _write(deadline_engine, full)
        if step % 3 == 0:
            await _fire_some(deadline_engine, rng)
        assert await _tables(deadline_engine, "diff-") == await _tables(deadline_engine, "full-")
    fired = (await _tables(deadline_engine, "diff-"))["timers"]
    assert any(r[6] is not None for r in fired)
    assert any(r[6] is None for r in fired)


async def test_rows_go_as_arrays_and_come_back_as_they_went(deadline_engine: AsyncEngine) -> None:
    """``naervaer.bulk``: JSON lists and null, dates, a conflict left out, an update by key."""
    row = {
        "case_id": "b1", "tenant": "acme", "employee_id": "e", "manager_id": "m",
        "org_unit": "u", "case_start": None, "version": 1, "updated_at": FIRED_AT,
        "sick_pay_days": ["2024-01-08", "2024-01-09"], "last_sick_day": START,
    }  # fmt: skip
    empty = row | {"case_id": "b2", "sick_pay_days": []}
    async with deadline_engine.begin() as tx:
        await insert_rows(tx, cases, [row, empty])
        await insert_rows(tx, cases, [row | {"version": 9}], skip_conflicts=True)
        await insert_rows(tx, cases, [])
        changed = [{"case_id": "b2", "sick_pay_days": [["nested"]], "key_id": "k"}]
        await update_rows(tx, cases, "case_id", changed)
        await update_rows(tx, cases, "case_id", [{"case_id": "b1"}])  # nothing to set
    async with deadline_engine.connect() as conn:
        c = cases.c
        query = select(c.case_id, c.version, c.sick_pay_days, c.key_id).where(c.case_id < "c")
        found = sorted(tuple(r) for r in await conn.execute(query))
    assert found == [
        ("b1", 1, ["2024-01-08", "2024-01-09"], None),
        ("b2", 1, [["nested"]], "k"),
    ]
