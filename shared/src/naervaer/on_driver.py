"""Statements built with SQLAlchemy, sent on the transaction's asyncpg connection (issue 8).

``AsyncConnection.execute`` costs a statement ~70 µs of the client's CPU on top of asyncpg's
own ~80 (measured on the benchmark machine: the statement's cache key walked on every call,
its parameters and result set up, events fired, a greenlet switch), and a consumer settling
an event a batch at moderate rates sends several. Here a statement is compiled once for the
dialect (statements are built once, so it is kept by identity), its binds' processors looked
up once, and it goes to asyncpg's ``fetch`` on the connection whose transaction SQLAlchemy
has begun, so it commits or rolls back with the rest. Rows come back through their columns'
result processors, as SQLAlchemy gives them, as named tuples (by position or by name).

A transaction SQLAlchemy has begun (``engine.begin()``) but not yet on the server (its asyncpg
adapter sends ``BEGIN`` before its first statement, and a statement sent before that would
commit on its own) is begun here as the adapter begins it, so a transaction's first statement
(a consumer's inbox claim) goes on the driver too. That uses the adapter's private
``_start_transaction`` (SQLAlchemy is pinned by the lock file; ``test_on_driver`` fails if it
changes). It goes through SQLAlchemy instead where the connection is not asyncpg's (SQLite);
where SQLAlchemy has not begun a transaction (its own first statement begins one), unless the
connection is in ``AUTOCOMMIT`` (where every statement commits on its own anyway); where the
enclosing span is recorded, so that a traced batch still shows each statement's client span
(``naervaer.observability.tracing.instrument_engine``; an unrecorded trace skips those spans
anyway); and where the driver would not give what SQLAlchemy gives (``_compiled``: expanding
binds, Python-side defaults, numbers, unnamed columns; or a required bind not given).

Such a statement fires no ``before_cursor_execute`` (nor do the store's hot path and
``naervaer.bulk``'s COPYs): ``naervaer.testing.statements`` records it for the tests that
count statements. A failure is asyncpg's own error, as the store's hot path raises it, and a
failed ``BEGIN`` the adapter's translation of it (``naervaer.outages`` knows both: it follows
the cause).
"""

from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from keyword import iskeyword
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from opentelemetry import trace
from sqlalchemy import Executable, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import BindParameter, ColumnClause, Label

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
    sent = await _on_driver(tx, statement, params or {})
    if sent is None:
        await tx.execute(statement, params)


async def fetch(
    tx: AsyncConnection, statement: Executable, params: Mapping[str, Any] | None = None
) -> Sequence[Any]:
    """Run a statement and return its rows (each by position or by its column's name)."""
    if getattr(statement, "is_dml", False) and not getattr(statement, "exported_columns", ()):
        raise TypeError("the statement returns no rows: use execute")
    sent = await _on_driver(tx, statement, params or {})
    if sent is None:
        return (await tx.execute(statement, params)).all()
    compiled, records = sent
    make, processors = compiled.row, compiled.processors
    assert make is not None  # a statement without rows is not sent on the driver by fetch
    if not any(processors):
        return [make(record) for record in records]
    return [
        make([v if p is None else p(v) for p, v in zip(processors, record, strict=True)])
        for record in records
    ]


async def _on_driver(
    tx: AsyncConnection, statement: Executable, params: Mapping[str, Any]
) -> tuple[_Compiled, list[Any]] | None:
    """The statement sent on the driver and its records; None: not sent (it goes through
    SQLAlchemy)."""
    if tx.dialect.driver != "asyncpg" or trace.get_current_span().is_recording():
        return None
    compiled = _compiled(statement, tx.dialect)
    if compiled is None:
        return None
    args = _args(compiled, params)
    if args is None:
        return None
    raw = await _begun(tx)
    if raw is None:
        return None
    return compiled, await _send(raw, compiled.sql, args)


async def _send(raw: asyncpg.Connection, sql: str, args: list[Any]) -> list[Any]:
    """The round trip (a name of its own: ``naervaer.testing.statements`` records it)."""
    return await raw.fetch(sql, *args)  # type: ignore[no-any-return]


async def _begun(tx: AsyncConnection) -> asyncpg.Connection | None:
    """``tx``'s asyncpg connection (of a statement to be sent) if its transaction has begun on
    the server, or is begun there now because SQLAlchemy has begun it, or each statement
    commits on its own; else None."""
    pooled = await tx.get_raw_connection()
    raw, adapter = pooled.driver_connection, pooled.dbapi_connection
    # ``autocommit``: the adapter's own state (the DBAPI attribute), which decides whether it
    # will send ``BEGIN`` (not the level asked for: a switch that failed or a reconnect keeps
    # the option but not the level), as on the outbox relay's connection, where a statement
    # sent on the driver commits alike.
    if raw is None or adapter is None:
        return None
    if raw.is_in_transaction() or adapter.autocommit:
        return raw
    return raw if tx.in_transaction() and await _begin(tx, adapter) else None


async def _begin(tx: AsyncConnection, adapter: Any) -> bool:
    """Send the ``BEGIN`` of the transaction SQLAlchemy has begun, as its asyncpg adapter does
    before its first statement (``_start_transaction``, under its mutex: same isolation level,
    and its ``commit``/``rollback`` end it); False where the adapter is not as expected.

    Should the ``BEGIN`` fail or its task be cancelled meanwhile, the server may have begun the
    transaction while neither SQLAlchemy nor asyncpg can end it (asyncpg keeps the failed one
    as its outermost), so the connection is invalidated, as SQLAlchemy does with a connection
    it loses or a cancellation, and not put back in the pool."""
    start = getattr(adapter, "_start_transaction", None)
    mutex = getattr(adapter, "_execute_mutex", None)
    if start is None or mutex is None or getattr(adapter, "_transaction", True) is not None:
        return False
    async with mutex:
        if adapter._transaction is None:
            try:
                await start()
            except BaseException as error:
                if (connection := tx.sync_connection) is not None:
                    connection.invalidate(error if isinstance(error, Exception) else None)
                raise
    return adapter._transaction is not None


def _args(compiled: _Compiled, params: Mapping[str, Any]) -> list[Any] | None:
    """The values in the order of the statement's binds; None where a required bind has no
    value (SQLAlchemy says what is missing, or compiles an INSERT of the columns given)."""
    args = []
    for bind in compiled.binds:
        if bind.name in params:
            value = params[bind.name]
        elif bind.required:
            return None
        else:
            value = bind.default
        args.append(value if bind.processor is None else bind.processor(value))
    return args


@functools.lru_cache(maxsize=512)  # statements are built once: kept by identity
def _compiled(statement: Executable, dialect: Dialect) -> _Compiled | None:
    """The statement as the driver takes it; None where it would not give what SQLAlchemy
    gives: binds that expand, are escaped or are computed, columns filled in by Python-side
    defaults, result columns whose processing needs the driver's type (numbers), or names
    that are not plain (an anonymous or duplicate one: SQLAlchemy's rows name them its way)."""
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    if (
        compiled.escaped_bind_names
        or "POSTCOMPILE" in compiled.string
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or any(compiled.binds[name].callable is not None for name in compiled.positiontup)
    ):
        return None
    binds = tuple(_bind(name, compiled.binds[name], dialect) for name in compiled.positiontup)
    columns = list(getattr(statement, "exported_columns", ()))  # a SELECT's, a RETURNING's
    if not columns:
        return _Compiled(compiled.string, binds, None, ())
    named = [_plain_name(column) for column in columns]
    names = [name for name in named if name is not None]
    if len(set(names)) < len(named):
        return None
    impls = [column.type.dialect_impl(dialect) for column in columns]
    if any(isinstance(impl, Numeric) for impl in impls):
        return None
    row = namedtuple("Row", names)._make  # type: ignore[attr-defined]
    processors = tuple(impl.result_processor(dialect, None) for impl in impls)
    return _Compiled(compiled.string, binds, row, processors)


def _plain_name(column: Any) -> str | None:
    """The name SQLAlchemy's rows give the column, where it is a column's or a label's own
    and usable as a field's (else None)."""
    if not isinstance(column, ColumnClause | Label):  # an anonymous label's name is "%(… anon)s"
        return None
    name = str(column.name)
    if column.key != name or not name.isidentifier() or name.startswith("_") or iskeyword(name):
        return None
    return name


def _bind(name: str, bind: BindParameter[Any], dialect: Dialect) -> _Bind:
    processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
    return _Bind(name, processor, bind.value, bool(bind.required))
