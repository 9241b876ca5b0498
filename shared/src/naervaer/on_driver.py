"""Statements built with SQLAlchemy, sent on the transaction's asyncpg connection (issue 8).

``AsyncConnection.execute`` costs a statement ~70 µs of the client's CPU on top of asyncpg's
own ~80 (measured on the benchmark machine: the statement's cache key walked on every call,
its parameters and result set up, events fired, a greenlet switch), and a consumer settling
an event a batch at moderate rates sends several. Here a statement is compiled once for the
dialect (statements are built once, so it is kept by identity), its binds' processors looked
up once, and it goes to asyncpg's ``fetch`` on the connection whose transaction SQLAlchemy
has begun, so it commits or rolls back with the rest. Rows come back through their columns'
result processors, as SQLAlchemy gives them, as named tuples (by position or by name).

It goes through SQLAlchemy instead where the database is not PostgreSQL; where the
transaction has not begun on the server (SQLAlchemy's asyncpg adapter sends ``BEGIN`` with
its first statement, and a statement sent before that would commit on its own); and where
the enclosing span is recorded, so that a traced batch still shows each statement's client
span (``naervaer.observability.tracing.instrument_engine``). An unrecorded trace skips those
spans anyway, so nothing is lost where the driver is used.

Such a statement fires no ``before_cursor_execute`` (nor do the store's hot path and
``naervaer.bulk``'s COPYs): ``naervaer.testing.statements`` records it for the tests that
count statements. A failure is asyncpg's own error, as the store's hot path raises it
(``naervaer.outages`` knows them).
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from opentelemetry import trace
from sqlalchemy import Executable
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Bind:
    name: str
    processor: Processor
    default: Any  # the value of a bind that names none to be given (a literal's)
    required: bool


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[_Bind, ...]
    row: Callable[[Iterable[Any]], tuple[Any, ...]] | None  # a row's maker; None: no rows
    processors: tuple[Processor, ...]


async def execute(
    tx: AsyncConnection, statement: Executable, params: Mapping[str, Any] | None = None
) -> None:
    """Run a statement that returns no rows (``tx.execute``'s effect)."""
    raw = await _begun(tx)
    if raw is None:
        await tx.execute(statement, params)
        return
    compiled = _compiled(statement, tx.dialect)
    await _send(raw, compiled.sql, _args(compiled, params or {}))


async def fetch(
    tx: AsyncConnection, statement: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """Run a statement and return its rows (each by position or by its column's name)."""
    raw = await _begun(tx)
    if raw is None:
        return (await tx.execute(statement, params)).all()
    compiled = _compiled(statement, tx.dialect)
    make, processors = compiled.row, compiled.processors
    if make is None:
        raise TypeError("the statement returns no rows: use execute")
    records = await _send(raw, compiled.sql, _args(compiled, params or {}))
    if not any(processors):
        return [make(record) for record in records]
    return [
        make([v if p is None else p(v) for p, v in zip(processors, record, strict=True)])
        for record in records
    ]


async def _send(raw: asyncpg.Connection, sql: str, args: list[Any]) -> list[Any]:
    """The round trip (a name of its own: ``naervaer.testing.statements`` records it)."""
    return await raw.fetch(sql, *args)  # type: ignore[no-any-return]


async def _begun(tx: AsyncConnection) -> asyncpg.Connection | None:
    """``tx``'s asyncpg connection if the database is PostgreSQL, its transaction has begun
    on the server and no recorded span would want the statement's own, else None."""
    if tx.dialect.name != "postgresql" or trace.get_current_span().is_recording():
        return None
    raw = (await tx.get_raw_connection()).driver_connection
    return raw if raw is not None and raw.is_in_transaction() else None


def _args(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any]:
    args = []
    for bind in compiled.binds:
        if bind.name in params:
            value = params[bind.name]
        elif bind.required:
            raise KeyError(f"the statement's bind {bind.name!r} was given no value")
        else:
            value = bind.default
        args.append(value if bind.processor is None else bind.processor(value))
    return args


@functools.lru_cache(maxsize=512)  # statements are built once: kept by identity
def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if compiled.escaped_bind_names or "POSTCOMPILE" in compiled.string:
        raise ValueError("a statement with expanding or escaped binds runs through SQLAlchemy")
    binds = tuple(_bind(name, compiled.binds[name], dialect) for name in compiled.positiontup)
    columns = getattr(statement, "exported_columns", ())  # a SELECT's, or a RETURNING's
    if not columns:
        return _Compiled(compiled.string, binds, None, ())
    keys = list(columns.keys())
    row = namedtuple("Row", keys, rename=True)._make  # type: ignore[attr-defined]
    processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    return _Compiled(compiled.string, binds, row, processors)


def _bind(name: str, bind: BindParameter[Any], dialect: Dialect) -> _Bind:
    if bind.callable is not None:
        raise ValueError(f"bind {name!r} takes its value from a callable: not supported here")
    processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return _Bind(name, processor, bind.value, bool(bind.required))
