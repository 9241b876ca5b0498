"""Many rows in one statement: on PostgreSQL one array per column (``unnest``), issue 8.

An executemany of a hundred rows costs SQLAlchemy a parameter dict built and processed per
row and asyncpg a Bind and Execute per row: in the live deadline consumer that was a tenth
of its CPU (W6); a rebuild claims an inbox row per event the same way. On PostgreSQL the
rows go as one array per column instead, into one ``INSERT … SELECT FROM unnest(…)`` or
``UPDATE … FROM unnest(…)``: one parameter set, encoded by asyncpg, and one statement per
shape, prepared once. SQLite keeps the executemany (it has no arrays; its statements cost no
round trip). The arrays are bound as ``naervaer.db.unnested`` binds them, which other
statements use as a subquery (a claim's RETURNING, a NOT IN).

Plain inserts (no conflicts to skip) inside a transaction go by ``COPY`` instead (binary, on
the transaction's own asyncpg connection): asyncpg encodes an array's every element after a
chain of ``isinstance`` checks against the collection ABCs (``None``, a date or a bool is no
string, so each pays them), a COPY record's values by their column's codec alone. Probed with
650 timeline rows of 13 columns: 5.1 → 0.74 ms of the client's CPU, the server's the same. A
COPY is not a statement SQLAlchemy runs, so it has no span of its own (the store's hot path,
on the driver too, has none either): its time is its enclosing span's.

Writes that no read separates can go ``Together``: on PostgreSQL one statement, all but the
last as data-modifying CTEs (each part's binds under a prefix of its own), where each would
be a round trip of its own. A live event is mostly a batch of its own, and each statement
then costs more than the rows it writes (issue 8, twenty-ninth round: the deadline timeline's
writes so, one event a batch took 12 % less of the process's CPU and 6 % less of its
database backend's; W4's deadline service at 200 events/s 4-6 % less).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    JSON,
    ColumnElement,
    Executable,
    Insert,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    column,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer import on_driver
from naervaer.db import unnested

Row = dict[str, Any]
# ``json.dumps`` with its defaults (the JSON type's serializer) without its per-call checks.
_encode = json.JSONEncoder().encode


class JsonText(str):
    """A JSON column's value rendered already (pydantic's ``model_dump_json`` renders a model
    in a fraction of what ``model_dump`` and ``json.dumps`` take): written as it is on
    PostgreSQL, parsed back where the column's own type binds it (SQLite)."""


def _json_text(value: Any) -> str:
    return value if type(value) is JsonText else _encode(value)


def _json_value(value: Any) -> Any:
    """A JSON column's value as the JSON type binds it."""
    return json.loads(value) if type(value) is JsonText else value


async def insert_rows(
    tx: AsyncConnection, table: Table, rows: Sequence[Row], *, skip_conflicts: bool = False
) -> None:
    """INSERT ``rows`` (each with the same columns); ``skip_conflicts``: a row whose key is
    taken is left out, as ``ON CONFLICT DO NOTHING`` does it (the first of equal keys wins)."""
    if not rows:
        return
    names = tuple(rows[0])
    dialect = tx.dialect.name
    if dialect == "postgresql" and not skip_conflicts:
        raw = await _in_transaction(tx)
        if raw is not None:
            await _copy(raw, table, rows, names)
            return
    await _execute(tx, _insert(table, dialect, names, skip_conflicts), table, rows, names)


async def _in_transaction(tx: AsyncConnection) -> asyncpg.Connection | None:
    """``tx``'s asyncpg connection if its transaction has begun on the server, else None.

    SQLAlchemy's asyncpg adapter begins the transaction with its first statement: a COPY sent
    before that would commit on its own, so the arrays' INSERT goes instead, which begins it."""
    raw = (await tx.get_raw_connection()).driver_connection
    return raw if raw is not None and raw.is_in_transaction() else None


async def _copy(
    raw: asyncpg.Connection, table: Table, rows: Sequence[Row], names: tuple[str, ...]
) -> None:
    """``rows`` by ``COPY … FROM STDIN (FORMAT binary)``: the values in column order, JSON as
    its text (the JSON codecs SQLAlchemy's dialect installs take text)."""
    as_json = _json_columns(table, names)
    if any(as_json):
        records = [
            tuple(_json_text(row[n]) if j else row[n] for n, j in zip(names, as_json, strict=True))
            for row in rows
        ]
    elif len(names) > 1:  # a tuple from C, not a generator's (a rebuild COPYs ~1.5 rows an event)
        records = list(map(operator.itemgetter(*names), rows))
    else:
        records = [(row[names[0]],) for row in rows]
    await raw.copy_records_to_table(
        table.name, schema_name=table.schema, columns=names, records=records
    )


@functools.cache
def _json_columns(table: Table, names: tuple[str, ...]) -> tuple[bool, ...]:
    return tuple(_is_json(table, n) for n in names)


async def upsert_rows(
    tx: AsyncConnection, table: Table, key: tuple[str, ...], rows: Sequence[Row]
) -> None:
    """INSERT ``rows`` (each with the same columns, each ``key`` once), a row whose ``key``
    is taken replacing the stored row's other columns (``ON CONFLICT … DO UPDATE``): one
    statement where deleting the rows and inserting them again takes two, a ``COPY`` three
    round trips."""
    if not rows:
        return
    names = tuple(rows[0])
    await _execute(tx, _upsert(table, tx.dialect.name, key, names), table, rows, names)


async def _execute(
    tx: AsyncConnection,
    statement: Insert,
    table: Table,
    rows: Sequence[Row],
    names: tuple[str, ...],
) -> None:
    """An INSERT of ``rows``: one array per column on PostgreSQL, an executemany elsewhere."""
    if tx.dialect.name == "postgresql":
        await on_driver.execute(tx, statement, _arrays(table, rows, names))
    else:
        await tx.execute(statement, _bound(table, rows, names))


async def update_rows(tx: AsyncConnection, table: Table, key: str, rows: Sequence[Row]) -> None:
    """UPDATE each row of ``table`` whose ``key`` column equals the row's ``key`` value with
    the row's other values (each row with the same columns, each key once)."""
    if not rows or not rows[0].keys() - {key}:
        return
    names = tuple(rows[0])
    dialect = tx.dialect.name
    statement = _update(table, dialect, key, names)
    if dialect == "postgresql":
        await on_driver.execute(tx, statement, _arrays(table, rows, names))
    else:
        bound = _bound(table, rows, names)
        await tx.execute(statement, [{f"b_{n}": row[n] for n in names} for row in bound])


Part = tuple[Executable, dict[str, Any]]  # a statement and its binds


class Together:
    """Writes of one transaction that no read of it separates: on PostgreSQL sent as one
    statement by ``send`` (all but the last as data-modifying CTEs), elsewhere each run as it
    comes (SQLite's statements cost no round trip).

    Its parts run on one snapshot and none sees another's changes: of a row two of them
    change, PostgreSQL keeps one change (which one, it does not say) or refuses the statement.
    So no two parts may touch the same row: a caller adds only writes of distinct rows (a row
    deleted by one and inserted by another included), and sends them before anything reads
    what they write. Their statements are built once per shape (``execute``'s too: the
    combined statement is kept by its parts' identities).
    """

    def __init__(self, tx: AsyncConnection) -> None:
        self._tx = tx
        self._postgres = tx.dialect.name == "postgresql"
        self._parts: list[Part] = []

    async def insert_new(self, table: Table, rows: Sequence[Row]) -> None:
        """``insert_rows(…, skip_conflicts=True)`` with the others."""
        if not rows:
            return
        if not self._postgres:
            await insert_rows(self._tx, table, rows, skip_conflicts=True)
            return
        names, prefix = tuple(rows[0]), self._prefix()
        statement = _insert(table, "postgresql", names, True, prefix)
        self._parts.append((statement, _arrays(table, rows, names, prefix)))

    async def upsert(self, table: Table, key: tuple[str, ...], rows: Sequence[Row]) -> None:
        """``upsert_rows`` with the others."""
        if not rows:
            return
        if not self._postgres:
            await upsert_rows(self._tx, table, key, rows)
            return
        names, prefix = tuple(rows[0]), self._prefix()
        statement = _upsert(table, "postgresql", key, names, prefix)
        self._parts.append((statement, _arrays(table, rows, names, prefix)))

    async def update(self, table: Table, key: str, rows: Sequence[Row]) -> None:
        """``update_rows`` with the others."""
        if not rows or not rows[0].keys() - {key}:
            return
        if not self._postgres:
            await update_rows(self._tx, table, key, rows)
            return
        names, prefix = tuple(rows[0]), self._prefix()
        statement = _update(table, "postgresql", key, names, prefix)
        self._parts.append((statement, _arrays(table, rows, names, prefix)))

    async def execute(
        self, postgres: Callable[[str], Part], elsewhere: Callable[[], Executable]
    ) -> None:
        """A statement of the caller's: on PostgreSQL ``postgres(prefix)`` (its binds named
        under ``prefix``, the statement built once per prefix) with the others, elsewhere
        ``elsewhere()`` at once."""
        if self._postgres:
            self._parts.append(postgres(self._prefix()))
        else:
            await self._tx.execute(elsewhere())

    async def send(self) -> None:
        """The parts added since the last ``send``, as one statement (nothing if none)."""
        parts, self._parts = self._parts, []
        if not parts:
            return
        params: dict[str, Any] = {}
        for _, bound in parts:
            params.update(bound)
        if len(params) != sum(len(bound) for _, bound in parts):
            raise ValueError("two parts bind the same name: give each its prefix")
        await on_driver.execute(self._tx, _together(tuple(s for s, _ in parts)), params)

    def _prefix(self) -> str:
        return f"p{len(self._parts)}"


@functools.lru_cache(maxsize=1024)  # built once per sequence of shapes
def _together(statements: tuple[Executable, ...]) -> Executable:
    *first, last = statements
    if not first:
        return last
    ctes = [statement.cte(f"w{i}") for i, statement in enumerate(first)]  # type: ignore[attr-defined]
    return last.add_cte(*ctes)  # type: ignore[attr-defined,no-any-return]


@functools.cache  # built once per shape
def _insert(
    table: Table, dialect: str, names: tuple[str, ...], skip: bool, prefix: str = "u"
) -> Insert:
    statement = _dialect_insert(table, dialect, names, prefix)
    return statement.on_conflict_do_nothing() if skip else statement


@functools.cache  # built once per shape
def _upsert(
    table: Table, dialect: str, key: tuple[str, ...], names: tuple[str, ...], prefix: str = "u"
) -> Insert:
    statement = _dialect_insert(table, dialect, names, prefix)
    return statement.on_conflict_do_update(
        index_elements=key, set_={n: statement.excluded[n] for n in names if n not in key}
    )


def _dialect_insert(
    table: Table, dialect: str, names: tuple[str, ...], prefix: str
) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of ``names`` into ``table``: from ``_unnested``'s arrays on PostgreSQL (bound
    under ``prefix``), from one row's binds (an executemany) elsewhere."""
    if dialect == "postgresql":
        values = _unnested(table, names, prefix)
        return postgresql.insert(table).from_select(names, select(*values.values()))
    return sqlite.insert(table)


@functools.cache
def _update(
    table: Table, dialect: str, key: str, names: tuple[str, ...], prefix: str = "u"
) -> Update:
    changed = [n for n in names if n != key]
    if dialect == "postgresql":
        values = _unnested(table, names, prefix)
        return (
            update(table).where(table.c[key] == values[key]).values({n: values[n] for n in changed})
        )
    return (
        update(table)
        .where(table.c[key] == bindparam(f"b_{key}"))
        .values({n: bindparam(f"b_{n}") for n in changed})
    )


def _unnested(table: Table, names: tuple[str, ...], prefix: str) -> dict[str, ColumnElement[Any]]:
    """The columns of ``unnest(:u_a, :u_b, …) AS u(a, b, …)`` (``naervaer.db.unnested``; ``u``
    is ``prefix``).

    A JSON value goes as text and is cast back: asyncpg takes a list inside an array for
    another dimension of it."""
    types = {n: Text() if _is_json(table, n) else table.c[n].type for n in names}
    u = unnested(prefix, *[column(n, t) for n, t in types.items()])
    return {n: cast(u.c[n], table.c[n].type) if _is_json(table, n) else u.c[n] for n in names}


def _arrays(
    table: Table, rows: Sequence[Row], names: tuple[str, ...], prefix: str = "u"
) -> dict[str, list[Any]]:
    """``_unnested``'s parameters: each column's values in row order (JSON as its text)."""
    arrays = {}
    for n in names:
        values = [row[n] for row in rows]
        # Python's None is JSON null, as the JSON type binds it (``none_as_null`` is off).
        arrays[f"{prefix}_{n}"] = list(map(_json_text, values)) if _is_json(table, n) else values
    return arrays


def _bound(table: Table, rows: Sequence[Row], names: tuple[str, ...]) -> list[Row]:
    """``rows`` as SQLite's statements bind them: JSON rendered already parsed back."""
    as_json = _json_columns(table, names)
    if not any(as_json):
        return list(rows)
    return [
        {n: _json_value(row[n]) if j else row[n] for n, j in zip(names, as_json, strict=True)}
        for row in rows
    ]


def _is_json(table: Table, name: str) -> bool:
    return isinstance(table.c[name].type, JSON)
