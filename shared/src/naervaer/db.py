"""Database engines: PostgreSQL (asyncpg) in production, SQLite (aiosqlite) embedded.

Every service owns its data. On PostgreSQL the services may share one database, each in its
own schema (``search_path``); on SQLite each service has its own file in the data folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import ColumnElement, any_, bindparam, column, event, func, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import ColumnClause, TableValuedAlias

log = structlog.get_logger(__name__)
ANALYSE_FIRST_AT = 1_000  # rows written; see ``GrowingTables``


@dataclass(frozen=True)
class DatabaseTarget:
    """Where one service keeps its data."""

    url: str
    schema: str | None  # PostgreSQL schema; None on SQLite

    @property
    def is_postgres(self) -> bool:
        return make_url(self.url).get_backend_name() == "postgresql"


def resolve_target(
    service: str, *, service_url: str | None, platform_url: str | None, data_dir: Path
) -> DatabaseTarget:
    """The database of ``service``: its own URL, the shared one with a schema, or SQLite."""
    url = service_url or platform_url
    if url is None:
        data_dir.mkdir(parents=True, exist_ok=True)
        return DatabaseTarget(f"sqlite+aiosqlite:///{(data_dir / f'{service}.db').resolve()}", None)
    url = normalise_url(url)
    schema = service.replace("-", "_") if make_url(url).get_backend_name() == "postgresql" else None
    return DatabaseTarget(url, schema)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the asyncpg driver for them."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "asyncpg":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.get_backend_name() == "sqlite" and parsed.get_driver_name() != "aiosqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def create_engine(
    target: DatabaseTarget, *, settings: Mapping[str, str] | None = None, **kwargs: Any
) -> AsyncEngine:
    """An async engine for ``target``; SQLite gets WAL, a busy timeout and foreign keys.
    ``settings``: PostgreSQL settings every connection starts with (SQLite: ignored)."""
    if target.is_postgres:
        connect_args: dict[str, Any] = {}
        server_settings = dict(settings or {})
        if target.schema:
            server_settings["search_path"] = target.schema
        if server_settings:
            connect_args["server_settings"] = server_settings
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        return create_async_engine(target.url, connect_args=connect_args, **kwargs)
    engine = create_async_engine(target.url, connect_args={"timeout": 30}, **kwargs)
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin_immediate) instead of pysqlite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: appends then serialise instead of failing on upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def among(column: ColumnClause[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN (the list bound as name)``. On PostgreSQL ``= ANY(array)``: one statement
    for every length of the list, compiled and prepared once (an expanding IN renders, and
    asyncpg prepares, a new statement per length)."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def unnested(name: str, *columns: ColumnClause[Any]) -> TableValuedAlias:
    """PostgreSQL only: rows bound as one array per column, as a table ``name`` with the
    columns' names and types (``unnest(:name_a, :name_b, …) AS name(a, b, …)``).

    The sibling of ``among`` for many rows: an ``INSERT … SELECT`` or a ``NOT IN (SELECT …)``
    over it is one statement for any number of rows, compiled and prepared once, where a
    multi-row VALUES or a tuple IN renders a new one per count. ``unnested_params`` binds it.
    """
    arrays = [bindparam(f"{name}_{c.name}", type_=postgresql.ARRAY(c.type)) for c in columns]
    typed = [column(c.name, c.type) for c in columns]
    return func.unnest(*arrays).table_valued(*typed).render_derived(name=name)


def unnested_params(
    name: str, columns: Sequence[ColumnClause[Any]], rows: Iterable[Sequence[Any]]
) -> dict[str, list[Any]]:
    """The parameters of ``unnested(name, *columns)`` for ``rows`` (values in column order)."""
    rows = list(rows)
    return {f"{name}_{c.name}": [row[i] for row in rows] for i, c in enumerate(columns)}


async def refresh_statistics(conn: AsyncConnection) -> None:
    """PostgreSQL: ``ANALYZE`` every table of the connection's schema (its ``search_path``).

    For code that fills tables in bulk faster than autovacuum looks at them (a rebuild): the
    planner would otherwise plan for the tables as they were, e.g. empty. A table whose lock
    another session holds (a VACUUM or ANALYZE of its own, an ``ALTER TABLE``, a
    ``CREATE INDEX CONCURRENTLY``) is skipped, not waited for: a consumer's stop waits for
    the refresh, and the next one catches up. Autovacuum holding it is analysing or vacuuming
    the table itself (a VACUUM updates the row count the planner reads). SQLite: nothing.
    """
    if conn.dialect.name != "postgresql":
        return
    names = await conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    )
    for (name,) in names.all():
        await analyse(conn, name)


async def analyse(conn: AsyncConnection, table: str, columns: Sequence[str] = ()) -> None:
    """PostgreSQL: ``ANALYZE`` the table of the connection's schema (only ``columns`` if
    given), skipped, not waited for, while another session holds its lock (PostgreSQL's
    warning then reaches only its own log, as does the one for a table the role does not own).
    """
    quote = conn.dialect.identifier_preparer.quote
    listed = f" ({', '.join(map(quote, columns))})" if columns else ""
    await conn.execute(text(f"ANALYZE (SKIP_LOCKED) {quote(table)}{listed}"))


class GrowingTables:
    """Keeps the planner's statistics up with tables filled in bulk (PostgreSQL).

    A rebuild or a consumer working through a backlog can fill a schema's tables from empty
    far faster than autovacuum (a look a minute) analyses them; until then every statement is
    planned for the tables as they were. The deadline timers' stale-timer DELETE, for one,
    then read every unfired timer through the partial index for each batch (8 to 10 ms a batch
    after 50 000 events, growing with the table). So the schema is analysed each time the
    rows written since start double, from ``ANALYSE_FIRST_AT`` on: 11 times up to a million
    (an ANALYZE samples at most 30 000 rows a table, so each costs milliseconds to a few hundred),
    and autovacuum keeps up on its own afterwards (it analyses after 10 % growth).

    The analysis runs beside the writer, on a connection of its own (an ANALYZE takes a lock
    that lets writes go on): the writer no longer waits for it (issue 8: 1.45 s of a 17 s
    rebuild of 200 000 events). One runs at a time for each instance; a threshold passed
    meanwhile has the schema analysed again once it ends. ``settled`` waits for the one
    running (and cancels it if the wait is cancelled). SQLite keeps no statistics: nothing
    runs there.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._written = 0
        self._next = ANALYSE_FIRST_AT
        self._analysing: asyncio.Task[None] | None = None
        self._again = False  # a threshold passed while an analysis ran
        self._enabled = engine.dialect.name == "postgresql"

    def wrote(self, count: int) -> None:
        """``count`` more rows (events) written; analyse if that passed the next threshold."""
        self._written += count
        if not self._enabled or self._written < self._next:
            return
        while self._next <= self._written:
            self._next *= 2
        if self._analysing is None or self._analysing.done():
            self._analysing = asyncio.create_task(self._analyse())
        else:
            self._again = True

    async def settled(self) -> None:
        """Wait for the analysis running (and one it must run again), if any."""
        if self._analysing is not None:
            await self._analysing  # a cancelled wait cancels the analysis too

    async def _analyse(self) -> None:
        self._again = True
        while self._again:
            self._again = False
            try:
                async with self._engine.begin() as tx:
                    await refresh_statistics(tx)
            except Exception as error:  # a permission, say: plans may be poorer, work goes on
                log.warning("could not analyse the tables", error=repr(error))
