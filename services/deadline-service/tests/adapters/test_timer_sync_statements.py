"""The timer sync of a batch (issue 8): exactly the wanted unfired timers remain, fired ones
stay, on both databases and for any batch size; on PostgreSQL its DELETE is one statement
with the batch's other writes (``naervaer.bulk.Together``), one SQL text for any number of
cases and timers as long as the batch has the same kinds of writes (a batch whose cases want
no new timer has no INSERT in it: another text)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters import writes as timeline_writes
from deadline_service.adapters.repository import CaseHeader, TimerKey
from deadline_service.adapters.tables import cases as case_rows
from deadline_service.adapters.tables import timers
from deadline_service.adapters.writes import CaseWrite, write_cases
from naervaer.testing.statements import statements_sent

FIRED_AT = datetime(2024, 2, 1, 6, tzinfo=UTC)
DUE = date(2024, 3, 1)
# (kind, stage, due date) → fired?  What each case holds before the sync.
HELD: dict[TimerKey, bool] = {
    ("follow_up_plan", "approaching", DUE): False,  # wanted: kept as it is
    ("follow_up_plan", "due", DUE): False,  # not wanted: deleted
    ("dialogue_meeting_1", "approaching", DUE): True,  # fired, not wanted: kept as the record
    ("dialogue_meeting_1", "due", DUE): True,  # fired and wanted: kept, not sent again
}
WANTED: dict[TimerKey, date] = {
    ("follow_up_plan", "approaching", DUE): date(2024, 2, 20),  # held (its fire_on stays)
    ("dialogue_meeting_1", "due", DUE): DUE,
    ("max_date", "approaching", DUE): date(2024, 2, 25),  # new
}
Row = tuple[str, str, str, date, date, datetime | None]


def _held_rows(case_id: str) -> list[dict[str, Any]]:
    return [
        {
            "case_id": case_id,
            "kind": kind,
            "stage": stage,
            "due_date": due,
            "tenant": "acme",
            "fire_on": due - timedelta(days=7),
            "fired_at": FIRED_AT if fired else None,
            "event_id": None,
        }
        for (kind, stage, due), fired in HELD.items()
    ]


def _header(case_id: str) -> CaseHeader:
    return CaseHeader(case_id, "acme", "emp", "mgr", "unit", DUE, ())


async def _sync(engine: AsyncEngine, prefix: str, cases: int) -> list[str]:
    """Sync the timers of ``cases`` cases (the last wants none) beside an untouched one;
    check the rows; return the DELETEs of timers sent."""
    ids = [f"{prefix}-{i}" for i in range(cases)]
    bystander = f"{prefix}-other"
    async with engine.begin() as tx:
        await tx.execute(insert(timers), [r for c in [*ids, bystander] for r in _held_rows(c)])
    # The last case wants no timer, though the others want keys it holds unfired.
    writes = [
        CaseWrite(_header(c), {"timeline_digest": "d"}, timers={} if c == ids[-1] else WANTED)
        for c in ids
    ]
    with statements_sent(engine) as sent:
        async with engine.begin() as tx:
            await write_cases(tx, writes)
    for case_id in ids:
        assert await _rows(engine, case_id) == _expected(case_id, wants=case_id != ids[-1])
    assert await _rows(engine, bystander) == sorted(_as_row(r) for r in _held_rows(bystander))
    # on PostgreSQL the DELETE is a part of one statement with the others (``bulk.Together``)
    return [s for s in sent if "DELETE FROM TIMERS" in s.upper()]


def _expected(case_id: str, *, wants: bool) -> list[Row]:
    held = [_as_row(r) for r in _held_rows(case_id)]
    kept = [r for r in held if r[5] is not None or (wants and r[1:4] in WANTED)]
    new: list[Row] = [
        (case_id, *key, on, None) for key, on in WANTED.items() if wants and key not in HELD
    ]
    return sorted(kept + new)


def _as_row(r: dict[str, Any]) -> Row:
    return (r["case_id"], r["kind"], r["stage"], r["due_date"], r["fire_on"], r["fired_at"])


async def _rows(engine: AsyncEngine, case_id: str) -> list[Row]:
    t = timers.c
    columns = (t.case_id, t.kind, t.stage, t.due_date, t.fire_on, t.fired_at)
    async with engine.connect() as conn:
        result = await conn.execute(select(*columns).where(t.case_id == case_id))
        return sorted((r[0], r[1], r[2], r[3], r[4], r[5]) for r in result)


async def test_timers_are_synced_exactly_for_any_batch_size(deadline_engine: AsyncEngine) -> None:
    for cases in (1, 3, 9):
        deletes = await _sync(deadline_engine, f"c{cases}", cases)
        assert len(deletes) == 1, deletes


@pytest.mark.parametrize("deadline_engine", ["postgres"], indirect=True)
async def test_the_timer_delete_is_one_statement_for_any_batch_size_on_postgresql(
    deadline_engine: AsyncEngine,
) -> None:
    # (from two cases on, every sync also inserts timers: the same parts, the same statement)
    sent = [s for cases in (2, 3, 7) for s in await _sync(deadline_engine, f"c{cases}", cases)]
    assert len(sent) == 3
    assert len(set(sent)) == 1, sent
    assert "unnest" in sent[0]


async def test_chunks_and_case_columns_of_every_kind_in_one_write(
    deadline_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several DELETE chunks (as a rebuild's thousand cases make) and two sets of case-row
    columns, each its own part: every row as written one by one would leave it."""
    monkeypatch.setattr(timeline_writes, "_MAX_PARAMS", 10)  # a chunk a case (1 + 4 x 3 keys)
    ids = [f"k-{i}" for i in range(4)]
    async with deadline_engine.begin() as tx:
        await tx.execute(insert(timers), [r for c in ids for r in _held_rows(c)])
        await tx.execute(insert(case_rows), [_case_row(c) for c in ids])
    writes = [
        CaseWrite(
            _header(c),
            {"timeline_digest": f"d{i}"} | ({"last_sick_day": DUE} if i % 2 else {}),
            timers=WANTED,
        )
        for i, c in enumerate(ids)
    ]
    with statements_sent(deadline_engine) as sent:
        async with deadline_engine.begin() as tx:
            await write_cases(tx, writes)
    for case_id in ids:
        assert await _rows(deadline_engine, case_id) == _expected(case_id, wants=True)
    async with deadline_engine.connect() as conn:
        c = case_rows.c
        found = await conn.execute(
            select(c.case_id, c.timeline_digest, c.last_sick_day).order_by(c.case_id)
        )
        assert [tuple(row) for row in found] == [
            (case_id, f"d{i}", DUE if i % 2 else None) for i, case_id in enumerate(ids)
        ]
    written = [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
    if deadline_engine.dialect.name == "postgresql":
        assert len(written) == 1, written
        assert written[0].count("DELETE FROM timers") == len(ids), written
        assert written[0].count("UPDATE cases SET") == 2, written
    else:  # each on its own: the DELETEs, the INSERT, two UPDATEs
        assert len(written) == len(ids) + 3, written


def _case_row(case_id: str) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "tenant": "acme",
        "employee_id": "emp",
        "manager_id": "mgr",
        "org_unit": "unit",
        "case_start": DUE,
        "version": 1,
        "updated_at": FIRED_AT,
        "sick_pay_days": [],
        "last_sick_day": None,
        "timeline_digest": None,
    }


async def test_a_write_that_would_put_two_parts_on_one_row_is_refused(
    deadline_engine: AsyncEngine,
) -> None:
    """A case twice, or a reassignment with rows: refused before anything is written."""
    twice = [CaseWrite(_header("t-1"), {"timeline_digest": d}, timers={}) for d in ("a", "b")]
    both = [CaseWrite(_header("t-2"), {}, obligations=[], manager="mgr-2")]
    for writes in (twice, both):
        with statements_sent(deadline_engine) as sent:
            async with deadline_engine.begin() as tx:
                with pytest.raises(ValueError, match=r"twice|reassignment"):
                    await write_cases(tx, writes)
        assert not [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]
