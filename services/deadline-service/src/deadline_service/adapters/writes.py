"""Writing recomputed timelines: one case or a whole batch of cases in the same few statements.

A recomputation ends in a ``CaseWrite``: the case row's new values and — only what its digest
says differs (``adapters.digest``) — obligation rows and wanted timers. ``write_cases`` writes
any number of them set-based: the obligations of cases written whole as a DELETE and one
INSERT, the changed kinds of the others as one upsert (one round trip where a DELETE and a
``COPY`` took three: most live events change a row or two), the timers as one DELETE of the
unfired unwanted ones (only where some may be there) and one INSERT of the new ones, the case
rows as one UPDATE per set of columns, each of them one array per column on PostgreSQL
(``naervaer.bulk``; the obligations' INSERT a ``COPY`` there, after the batch's reads began
the transaction). One case costs what it always cost; a rebuild batch of a hundred cases
costs the same handful of statements. On PostgreSQL the upsert, the timers' DELETE and INSERT
and the case rows' UPDATEs go as one statement (``naervaer.bulk.Together``): each touches rows
no other touches (a DELETE only unwanted timers, the INSERT only wanted ones; each case once).
The obligations of cases written whole and a reassignment's copies, which write the same
table as the upsert, go before it on their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import Delete, delete, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.digest import TimelineChange
from deadline_service.adapters.repository import CaseHeader, TimerKey
from deadline_service.adapters.tables import cases, obligations, timers
from naervaer.bulk import Part, Together, insert_rows, update_rows
from naervaer.db import among, unnested, unnested_params

# Bound values per statement, well below SQLite's (32 766) and asyncpg's (32 767) limits.
_MAX_PARAMS = 8_000
_DELETE_OBLIGATIONS = {  # built once per dialect (see ``among``)
    dialect: delete(obligations).where(among(obligations.c.case_id, "ids", dialect))
    for dialect in ("postgresql", "sqlite")
}
_OBLIGATION_KEY = ("case_id", "kind")
_TIMER_KEY = (timers.c.case_id, timers.c.kind, timers.c.stage, timers.c.due_date)


@functools.cache  # built once per prefix
def _delete_stale_timers(prefix: str) -> Delete:
    """PostgreSQL: the chunk's case ids and wanted keys as arrays, one statement for every
    chunk, its binds named under ``prefix``. The key columns are NOT NULL, so NOT IN over the
    subquery means what the tuple NOT IN means; an empty one (no timer wanted) keeps no unfired
    timer, as leaving it out does."""
    return delete(timers).where(
        among(timers.c.case_id, f"{prefix}_ids", "postgresql"),
        timers.c.fired_at.is_(None),
        tuple_(*_TIMER_KEY).not_in(select(unnested(f"{prefix}_wanted", *_TIMER_KEY))),
    )


@dataclass
class CaseWrite:
    """What one recomputation (or reassignment) leaves in one case's rows."""

    case: CaseHeader  # as read in this transaction
    row: dict[str, Any]  # the case row's columns to set
    obligations: list[dict[str, Any]] | None = None  # replace the timeline rows with these
    timers: dict[TimerKey, date] | None = None  # make the unfired timers exactly these
    manager: str | None = None  # set on the timeline rows' copies (a reassignment)
    # What the digest tells (``adapters.digest``): only the rows of the kinds in
    # ``obligations`` are replaced, only ``new_timers`` are inserted (None: all of
    # ``timers``), and the unfired unwanted timers are deleted only if some may be there.
    all_obligations: bool = True
    new_timers: dict[TimerKey, date] | None = None
    stale_timers: bool = True

    @classmethod
    def of(cls, case: CaseHeader, row: dict[str, Any], change: TimelineChange) -> CaseWrite:
        """The write of a recomputation whose timeline ``change`` found against its digest."""
        return cls(
            case,
            row,
            obligations=change.obligations,
            timers=change.timers,
            all_obligations=change.all_obligations,
            new_timers=change.new_timers,
            stale_timers=change.stale_timers,
        )


async def write_cases(
    tx: AsyncConnection, writes: Sequence[CaseWrite], together: Together | None = None
) -> None:
    """Write the cases' rows (distinct cases: each is written as its ``CaseWrite`` says).
    ``together``: an empty ``Together`` the last of them are added to, sent by its owner (the
    writes made at once run before them: parts already in it would run after those)."""
    # Parts of one statement must write distinct rows (``naervaer.bulk.Together``).
    if len({w.case.case_id for w in writes}) != len(writes):
        raise ValueError("a case written twice in one write")
    # A reassignment's copies are set before the upsert: its rows would keep their manager.
    if any(w.manager is not None and w.obligations is not None for w in writes):
        raise ValueError("a reassignment's write carries no obligation rows")
    written = [w for w in writes if w.obligations is not None]
    await _replace_whole(tx, [w for w in written if w.all_obligations])
    await _reassign(tx, [w for w in writes if w.manager is not None])
    mine = together is None
    together = Together(tx) if together is None else together
    changed = [row for w in written if not w.all_obligations for row in w.obligations or ()]
    # the rows of the written kinds in place (their kinds are there: the digest says so)
    await together.upsert(obligations, _OBLIGATION_KEY, changed)
    await _sync_timers(together, [w for w in writes if w.timers is not None])
    await _update_cases(together, writes)
    if mine:
        await together.send()


async def _replace_whole(tx: AsyncConnection, whole: Sequence[CaseWrite]) -> None:
    """Every row of a case written whole: deleted, then inserted."""
    for chunk in _chunks(whole, lambda w: 1):
        ids = [w.case.case_id for w in chunk]
        await tx.execute(_DELETE_OBLIGATIONS[tx.dialect.name], {"ids": ids})
    await insert_rows(tx, obligations, [row for w in whole for row in w.obligations or ()])


async def _reassign(tx: AsyncConnection, writes: Sequence[CaseWrite]) -> None:
    """The timeline rows carry the case's manager (the worklist filters on it)."""
    rows = [{"case_id": w.case.case_id, "manager_id": w.manager} for w in writes]
    await update_rows(tx, obligations, "case_id", rows)


async def _sync_timers(together: Together, writes: Sequence[CaseWrite]) -> None:
    """Make each case's unfired timers exactly its wanted ones; fired ones stay.

    The DELETE removes the unfired ones not wanted and the INSERT adds the wanted ones not
    there yet, so a fired timer with a wanted key stays as it is (a deadline event is never
    sent twice) and a wanted unfired one is never deleted. The ``fired_at IS NULL`` test runs
    in the DELETE itself, so a timer the scheduler fires meanwhile is never deleted. Where the
    digest tells, only the new ones are inserted and the DELETE is left out if none can go.
    """
    stale = [w for w in writes if w.stale_timers]
    for chunk in _chunks(stale, lambda w: 1 + 4 * len(w.timers or ())):
        ids = [w.case.case_id for w in chunk]
        keys = [(w.case.case_id, *key) for w in chunk for key in w.timers or ()]

        def arrays(prefix: str, ids: list[str] = ids, keys: list[Any] = keys) -> Part:
            wanted = unnested_params(f"{prefix}_wanted", _TIMER_KEY, keys)
            return _delete_stale_timers(prefix), {f"{prefix}_ids": ids, **wanted}

        await together.execute(arrays, functools.partial(_stale_timers_inline, ids, keys))
    rows = [row for w in writes for row in _timer_rows(w.case, _new_timers(w))]
    await together.insert_new(timers, rows)


def _new_timers(write: CaseWrite) -> dict[TimerKey, date]:
    return write.new_timers if write.new_timers is not None else write.timers or {}


def _stale_timers_inline(ids: list[str], keys: list[tuple[str, str, str, date]]) -> Delete:
    """SQLite's DELETE of the unfired unwanted timers: the values inline (expanding IN)."""
    t = timers.c
    stale = delete(timers).where(t.case_id.in_(ids), t.fired_at.is_(None))
    if keys:
        stale = stale.where(tuple_(*_TIMER_KEY).not_in(keys))
    return stale


async def _update_cases(together: Together, writes: Sequence[CaseWrite]) -> None:
    """One UPDATE per set of columns changed (one statement sent for all of its rows)."""

    def columns(w: CaseWrite) -> tuple[str, ...]:
        return tuple(sorted(w.row))

    for names, group in groupby(sorted(writes, key=columns), key=columns):
        rows = [{"case_id": w.case.case_id} | {n: w.row[n] for n in names} for w in group]
        await together.update(cases, "case_id", rows)


def _timer_rows(case: CaseHeader, wanted: dict[TimerKey, date]) -> Iterator[dict[str, Any]]:
    for (kind, stage, due), fire_on in wanted.items():
        yield {
            "case_id": case.case_id,
            "kind": kind,
            "stage": stage,
            "due_date": due,
            "tenant": case.tenant,
            "fire_on": fire_on,
            "fired_at": None,
            "event_id": None,
        }


def _chunks(
    writes: Sequence[CaseWrite], cost: Callable[[CaseWrite], int]
) -> Iterator[list[CaseWrite]]:
    """The writes in runs whose bound values stay under ``_MAX_PARAMS``."""
    chunk: list[CaseWrite] = []
    spent = 0
    for write in writes:
        if chunk and spent + cost(write) > _MAX_PARAMS:
            yield chunk
            chunk, spent = [], 0
        chunk.append(write)
        spent += cost(write)
    if chunk:
        yield chunk
