"""Which events cases have stored since their kept facts: one SELECT for a batch's cases.

A case whose facts are kept folded (``adapters.folded``) needs its rows only from the last
version folded on, and the case's stored versions up to it only to tell that they are still
exactly the ones folded: a long case has hundreds, and listing every one at every batch was
the cost that still grew with a case's length (issue 8, next step 38). So the statement
returns the events after that version, each with its id, and for each case one answer:
whether its stored versions up to that version, in order, are the ones folded (``1,2,5``,
compared in the database: as an integer array on PostgreSQL, as text on SQLite). A count is
not enough: an event deleted and one of a lower version stored since leave the count as it
was. The check and the events come from one statement, so from one snapshot of the table.
The server still reads the versions up to the last one folded, in the index and in C; the
service reads one row a case and those after it.

A case with nothing kept is asked from below any version: all of its events, no check. The
cases are bound as one array per column on PostgreSQL (``naervaer.db.unnested``), as one JSON
array on SQLite: one statement for any number of cases on both.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CompoundSelect,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    column,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import ColumnClause, ColumnElement
from sqlalchemy.sql.selectable import FromClause

from deadline_service.adapters.tables import case_events
from naervaer import on_driver
from naervaer.db import unnested, unnested_params

NOTHING_KEPT = -1
"""``Since.last`` of a case with nothing kept: below any version a row can hold."""
_KEPT: tuple[ColumnClause[Any], ...] = (
    column("case_id", Text),
    column("last", Integer),
    column("folded", Text),
)


@dataclass(frozen=True, slots=True)
class Since:
    """What to ask of one case: its events after ``last``, and whether its stored versions
    up to it are ``folded`` (versions in order; empty with ``last`` ``NOTHING_KEPT``)."""

    case_id: str
    last: int = NOTHING_KEPT
    folded: str = ""

    @classmethod
    def of(cls, case_id: str, versions: Sequence[int]) -> Since:
        """For a case whose kept facts hold the events of ``versions`` (in order)."""
        if not versions:
            return cls(case_id)
        return cls(case_id, versions[-1], ",".join(map(str, versions)))


@dataclass
class Stored:
    """A case's answer: its events after the version asked (version, event id, in order),
    and whether those up to it are the ones folded (True where nothing was kept)."""

    events: list[tuple[int, UUID]] = field(default_factory=list)
    intact: bool = False


async def stored_since(tx: AsyncConnection, asked: Sequence[Since]) -> dict[str, Stored]:
    """Every asked case's answer (one SELECT)."""
    dialect = tx.dialect.name
    rows = [(a.case_id, a.last, a.folded) for a in asked]
    if dialect == "postgresql":
        params: dict[str, Any] = unnested_params("kept", _KEPT, rows)
    else:
        params = {"kept": json.dumps(rows)}
    found = {a.case_id: Stored(intact=a.last == NOTHING_KEPT) for a in asked}
    answers = await on_driver.fetch(tx, _STATEMENTS[dialect], params)
    for case_id, version, event_id, intact in answers:
        if event_id is None:
            found[case_id].intact = bool(intact)
        else:
            found[case_id].events.append((version, event_id))
    for stored in found.values():
        stored.events.sort()
    return found


def _statement(dialect: str) -> CompoundSelect[Any]:
    kept = _kept(dialect)
    c, k = case_events.c, kept.c
    after = select(c.case_id, c.stream_version, c.event_id, null().label("intact")).join(
        kept, and_(c.case_id == k.case_id, c.stream_version > k.last)
    )
    checks = select(k.case_id, null(), null(), _intact(dialect, k)).where(k.last > NOTHING_KEPT)
    return union_all(after, checks)


def _intact(
    dialect: str, k: ReadOnlyColumnCollection[str, ColumnElement[Any]]
) -> ColumnElement[bool]:
    """Whether the case's stored versions up to ``k.last``, in order, are ``k.folded``."""
    v = case_events.alias("up_to")
    up_to = (v.c.case_id == k.case_id, v.c.stream_version <= k.last)
    if dialect == "postgresql":  # as integers: cheaper for the server than as text
        ordered = aggregate_order_by(v.c.stream_version, v.c.stream_version)
        versions = select(func.array_agg(ordered)).where(*up_to).scalar_subquery()
        return versions == cast(literal("{") + k.folded + literal("}"), ARRAY(Integer))
    # SQLite has no ORDER BY inside an aggregate before 3.44: a window orders them
    over = func.group_concat(v.c.stream_version, ",").over(
        order_by=v.c.stream_version, rows=(None, None)
    )
    return select(over).where(*up_to).limit(1).scalar_subquery() == k.folded


def _kept(dialect: str) -> FromClause:
    """The asked cases as a table (case_id, last, folded)."""
    if dialect == "postgresql":
        return unnested("kept", *_KEPT)
    each = func.json_each(bindparam("kept")).table_valued("value")
    return select(
        *(
            func.json_extract(each.c.value, f"$[{i}]").label(kept.name)
            for i, kept in enumerate(_KEPT)
        )
    ).subquery("kept")


_STATEMENTS = {dialect: _statement(dialect) for dialect in ("postgresql", "sqlite")}
