"""``naervaer.on_driver``: a statement built with SQLAlchemy, sent on the transaction's asyncpg
connection in the transaction SQLAlchemy has begun (``BEGIN`` sent first where it has not been
yet), gives what ``tx.execute`` gives and commits or rolls back with the transaction; elsewhere
it goes through SQLAlchemy."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import (
    JSON,
    Column,
    Date,
    Integer,
    MetaData,
    Table,
    Text,
    TypeDecorator,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from naervaer import on_driver
from naervaer.db import DatabaseTarget, create_engine
from naervaer.eventstore import event_store_tables
from naervaer.eventstore.tables import UtcDateTime
from naervaer.outbox.rows import OutboxRows
from naervaer.testing.pytest_plugin import temporary_database
from naervaer.testing.statements import statements_sent, through_sqlalchemy


class Pair(TypeDecorator[tuple[str, str]]):
    """Two words as one text column: a type whose binds and results both need its processors."""

    impl = Text()
    cache_ok = True

    def process_bind_param(self, value: tuple[str, str] | None, dialect: Dialect) -> str | None:
        return None if value is None else "|".join(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, str] | None:
        return None if value is None else tuple(value.split("|"))  # type: ignore[return-value]


metadata = MetaData()
notes = Table(
    "notes",
    metadata,
    Column("note_id", Uuid, primary_key=True),
    Column("label", Text, nullable=False),
    Column("count", Integer, nullable=False),
    Column("day", Date, nullable=True),
    Column("at", UtcDateTime, nullable=True),
    Column("tags", JSON().with_variant(JSONB(), "postgresql"), nullable=True),
    Column("pair", Pair, nullable=True),
)

marks = Table(
    "marks",
    metadata,
    Column("mark", Text, primary_key=True),
    Column("weight", Integer, default=3),
    Column("touched", Integer, onupdate=lambda: 9),
)

_BY_LABEL = select(notes).where(notes.c.label == bindparam("label")).order_by(notes.c.count)
_RENAMED = select(
    notes.c.label,
    (notes.c.count + literal(10)).label("more"),
    (literal("<") + notes.c.label + literal(">")).label("marked"),
).where(notes.c.note_id == bindparam("note_id"))
_ADD = insert(notes).values(
    note_id=bindparam("note_id"),
    label=bindparam("label"),
    count=bindparam("count"),
    day=bindparam("day"),
    at=bindparam("at"),
    tags=bindparam("tags"),
    pair=bindparam("pair"),
)
_COUNT_UP = (
    update(notes)
    .where(notes.c.label == bindparam("which"))
    .values(count=notes.c.count + 1)
    .returning(notes.c.note_id, notes.c.at, notes.c.pair)
)
_HOW_MANY = select(func.count()).select_from(notes)


@contextlib.asynccontextmanager
async def _engine(url: str) -> AsyncIterator[AsyncEngine]:
    made = create_engine(DatabaseTarget(url, None))
    try:
        async with made.begin() as tx:
            await tx.run_sync(metadata.create_all)
        yield made
    finally:
        await made.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        async with _engine(f"sqlite+aiosqlite:///{tmp_path / 'on_driver.db'}") as made:
            yield made
    else:  # a sync fixture may be requested from here; fresh_database (async) may not
        server = request.getfixturevalue("postgres_url")
        async with temporary_database(server) as url, _engine(url) as made:
            yield made


@pytest.fixture
async def postgres(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """Where statements go on the driver (checks of what happens there alone)."""
    async with temporary_database(postgres_url) as url, _engine(url) as made:
        yield made


def _note(label: str, count: int, **more: Any) -> dict[str, Any]:
    return {
        "note_id": uuid.uuid4(),
        "label": label,
        "count": count,
        "day": more.get("day"),
        "at": more.get("at"),
        "tags": more.get("tags"),
        "pair": more.get("pair"),
    }


def _on_the_driver_on_postgresql(engine: AsyncEngine, seen: list[str]) -> None:
    """What SQLAlchemy ran of a statement sent by ``on_driver``: nothing on PostgreSQL."""
    assert (seen == []) == (engine.dialect.name == "postgresql")


async def _begin(tx: AsyncConnection) -> None:
    """Begin the transaction on the server (SQLAlchemy's adapter begins it with a statement)."""
    await tx.execute(select(literal(1)))


async def test_rows_come_back_as_sqlalchemy_gives_them_by_position_and_by_name(
    engine: AsyncEngine,
) -> None:
    at = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    rows = [
        _note("a", 2, day=date(2026, 2, 27), at=at, tags={"k": [1, "x"]}, pair=("p", "q")),
        _note("a", 1),
        _note("b", 5, tags=["only"]),
    ]
    async with engine.begin() as tx:
        await tx.execute(insert(notes), rows)
        expected = (await tx.execute(_BY_LABEL, {"label": "a"})).all()
        with statements_sent(engine) as sent, through_sqlalchemy(engine) as seen:
            found = await on_driver.fetch(tx, _BY_LABEL, {"label": "a"})
    assert [tuple(row) for row in found] == [tuple(row) for row in expected]
    assert [row.note_id for row in found] == [rows[1]["note_id"], rows[0]["note_id"]]
    first, second = found
    assert isinstance(second.note_id, uuid.UUID)
    assert (second.at, second.at.tzinfo) == (at.astimezone(UTC), UTC)
    assert (second.day, second.tags) == (date(2026, 2, 27), {"k": [1, "x"]})
    assert second.pair == ("p", "q")
    assert (first.day, first.at, first.tags, first.pair) == (None, None, None, None)
    assert len(sent) == 1
    assert seen == ([] if engine.dialect.name == "postgresql" else sent)


async def test_literals_keep_their_values_and_labels_name_the_columns(engine: AsyncEngine) -> None:
    note = _note("x", 7)
    async with engine.begin() as tx:
        await tx.execute(insert(notes), [note])
        await _begin(tx)
        with through_sqlalchemy(engine) as seen:
            (row,) = await on_driver.fetch(tx, _RENAMED, {"note_id": note["note_id"]})
    _on_the_driver_on_postgresql(engine, seen)
    assert row == ("x", 17, "<x>")
    assert (row.label, row.more, row.marked) == ("x", 17, "<x>")


async def test_writes_commit_with_the_transaction_and_a_rollback_takes_them_back(
    engine: AsyncEngine,
) -> None:
    kept, dropped = _note("kept", 1), _note("dropped", 1)
    at = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    async with engine.begin() as tx:
        await _begin(tx)
        with through_sqlalchemy(engine) as seen:
            await on_driver.execute(
                tx, _ADD, {**kept, "at": at, "tags": {"a": 1}, "pair": ("x", "y")}
            )
    _on_the_driver_on_postgresql(engine, seen)
    with contextlib.suppress(RuntimeError):
        async with engine.begin() as tx:
            await _begin(tx)
            with through_sqlalchemy(engine) as seen:
                await on_driver.execute(tx, _ADD, dropped)
            _on_the_driver_on_postgresql(engine, seen)
            assert (await tx.execute(_HOW_MANY)).scalar_one() == 2  # the same transaction
            raise RuntimeError("abandon it")
    async with engine.connect() as conn:
        stored = (await conn.execute(select(notes))).all()
    assert [(r.note_id, r.label, r.at, r.tags, r.pair) for r in stored] == [
        (kept["note_id"], "kept", at, {"a": 1}, ("x", "y"))
    ]


async def test_a_naive_datetime_is_refused_as_the_column_type_refuses_it(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as tx:
        await _begin(tx)
        with pytest.raises(Exception, match="naive datetime"):
            await on_driver.execute(tx, _ADD, {**_note("n", 1), "at": datetime(2026, 1, 1)})


async def test_returning_rows_come_back_through_their_processors(engine: AsyncEngine) -> None:
    at = datetime(2026, 5, 6, 7, 8, tzinfo=UTC)
    note = _note("r", 1, at=at, pair=("a", "b"))
    async with engine.begin() as tx:
        await tx.execute(insert(notes), [note])
        await _begin(tx)
        with through_sqlalchemy(engine) as seen:
            (row,) = await on_driver.fetch(tx, _COUNT_UP, {"which": "r"})
        _on_the_driver_on_postgresql(engine, seen)
        count = (await tx.execute(select(notes.c.count))).scalar_one()
    assert (row.note_id, row.at, row.pair, count) == (note["note_id"], at, ("a", "b"), 2)


async def test_a_transactions_first_statement_begins_it_on_the_server_and_ends_with_it(
    engine: AsyncEngine,
) -> None:
    """On PostgreSQL the first statement goes on the driver too, after the ``BEGIN`` that
    SQLAlchemy's adapter would have sent (sent on the driver before it, it would commit on its
    own): a rollback takes it back, a commit keeps it."""
    with contextlib.suppress(RuntimeError):
        async with engine.begin() as tx:
            with through_sqlalchemy(engine) as seen:
                await on_driver.execute(tx, _ADD, _note("first", 1))
                await on_driver.execute(tx, _ADD, _note("second", 1))
            _on_the_driver_on_postgresql(engine, seen)
            raise RuntimeError("abandon it")
    async with engine.connect() as conn:
        assert (await conn.execute(_HOW_MANY)).scalar_one() == 0
    async with engine.begin() as tx:
        await on_driver.execute(tx, _ADD, _note("kept", 1))
        await tx.execute(_ADD, _note("then through SQLAlchemy", 1))  # no second BEGIN
    async with engine.connect() as conn:
        assert (await conn.execute(_HOW_MANY)).scalar_one() == 2


async def test_the_transaction_begun_on_the_driver_has_the_isolation_level_asked_for(
    postgres: AsyncEngine,
) -> None:
    read = select(func.current_setting("transaction_isolation").label("level"))
    async with postgres.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin():
            with statements_sent(postgres) as sent:
                (row,) = await on_driver.fetch(conn, read)
    assert (row.level, len(sent)) == ("repeatable read", 1)


async def _committed_elsewhere(engine: AsyncEngine) -> int:
    """The rows of ``notes`` committed, as a connection of another pool counts them."""
    other = create_async_engine(engine.url)
    try:
        async with other.connect() as conn:
            return int((await conn.execute(_HOW_MANY)).scalar_one())
    finally:
        await other.dispose()


@contextlib.contextmanager
def begin_then(error: BaseException) -> Iterator[None]:
    """Every ``BEGIN`` asyncpg sends reaches the server, then ``error`` is raised where its
    answer was awaited (as a task cancelled meanwhile sees it)."""
    execute = asyncpg.Connection.execute

    async def interrupted(self: asyncpg.Connection, query: str, *args: Any, **kw: Any) -> Any:
        done = await execute(self, query, *args, **kw)
        if query.startswith("BEGIN"):
            raise error
        return done

    asyncpg.Connection.execute = interrupted
    try:
        yield
    finally:
        asyncpg.Connection.execute = execute


@pytest.mark.parametrize(
    "error", [asyncio.CancelledError(), asyncpg.InterfaceError("lost")], ids=["cancelled", "failed"]
)
async def test_a_begin_cut_short_leaves_no_open_transaction_in_the_pool(
    postgres: AsyncEngine, error: BaseException
) -> None:
    """The server began the transaction, but neither SQLAlchemy nor asyncpg can end it: the
    connection is invalidated, so the pool's next transaction (on a new one) commits."""
    # an error as SQLAlchemy's adapter translates asyncpg's; a cancellation as it is
    dbapi_error = postgres.dialect.loaded_dbapi.Error
    raised = dbapi_error if isinstance(error, Exception) else type(error)
    with pytest.raises(raised), begin_then(error):
        async with postgres.begin() as tx:
            await on_driver.execute(tx, _ADD, _note("cut short", 1))
    async with postgres.begin() as tx:
        await on_driver.execute(tx, _ADD, _note("then committed", 1))
    assert await _committed_elsewhere(postgres) == 1


async def test_a_connection_lost_before_begin_is_invalidated(postgres: AsyncEngine) -> None:
    async with postgres.connect() as conn:
        pid = (await conn.execute(select(func.pg_backend_pid()))).scalar_one()
        await conn.rollback()
        async with postgres.connect() as other:
            await other.execute(select(func.pg_terminate_backend(pid)))
        with pytest.raises(postgres.dialect.loaded_dbapi.Error):  # as the adapter translates it
            async with conn.begin():
                await on_driver.execute(conn, _ADD, _note("lost", 1))
        assert conn.invalidated
    async with postgres.begin() as tx:
        await on_driver.execute(tx, _ADD, _note("on a new connection", 1))
    assert await _committed_elsewhere(postgres) == 1


async def test_before_sqlalchemy_begins_a_transaction_a_statement_goes_through_it(
    postgres: AsyncEngine,
) -> None:
    """On a connection with no transaction begun, SQLAlchemy's own first statement begins one
    (autobegin); after it statements go on the driver, and a rollback takes both back."""
    async with postgres.connect() as conn:
        with through_sqlalchemy(postgres) as seen:
            await on_driver.execute(conn, _ADD, _note("first", 1))
            await on_driver.execute(conn, _ADD, _note("second", 1))
        await conn.rollback()
        assert (await conn.execute(_HOW_MANY)).scalar_one() == 0
    assert len(seen) == 1


async def test_what_the_driver_would_not_give_alike_goes_through_sqlalchemy(
    postgres: AsyncEngine,
) -> None:
    """Expanding binds, computed columns' names, numbers (their processing needs the driver's
    type), an INSERT of some columns only, Python-side defaults: each as ``tx.execute``."""
    notes_given = [_note("a", 1), _note("a", 2), _note("b", 4)]
    many = select(notes.c.label).where(notes.c.label.in_(bindparam("ids", expanding=True)))
    unnamed = select(notes.c.label, notes.c.count + 1, func.count().over()).order_by(notes.c.count)
    numbers = select(func.avg(notes.c.count).label("mean"), (notes.c.count / 2).label("half"))
    asked: list[tuple[Any, dict[str, Any]]] = [
        (many.order_by(notes.c.count), {"ids": ["a", "b"]}),
        (unnamed, {}),
        (numbers.group_by(notes.c.count).order_by(notes.c.count), {}),
    ]
    async with postgres.begin() as tx:
        await tx.execute(insert(notes), notes_given)
        expected = [[r._asdict() for r in (await tx.execute(q, p)).all()] for q, p in asked]
        with through_sqlalchemy(postgres) as seen, statements_sent(postgres) as sent:
            found = [[r._asdict() for r in await on_driver.fetch(tx, q, p)] for q, p in asked]
            some = {"note_id": uuid.uuid4(), "label": "c", "count": 8}  # not every column
            await on_driver.execute(tx, insert(notes), some)
            await on_driver.execute(tx, insert(marks).values(mark=bindparam("m")), {"m": "m"})
            await on_driver.execute(tx, update(marks).values(mark="n"))
        (mark,) = (await tx.execute(select(marks))).all()
        added = (await tx.execute(select(notes.c.count).where(notes.c.label == "c"))).scalar()
    assert found == expected
    assert len(found[0]) == 3
    assert (mark.mark, mark.weight, mark.touched, added) == ("n", 3, 9, 8)
    assert len(seen) == len(sent) == 6


async def test_a_bind_given_no_value_is_refused_by_sqlalchemy(postgres: AsyncEngine) -> None:
    async with postgres.begin() as tx:
        await _begin(tx)
        with pytest.raises(sa_exc.StatementError, match="bind parameter 'label'"):
            await on_driver.fetch(tx, _BY_LABEL, {})


async def test_a_statement_of_no_rows_is_refused_by_fetch(postgres: AsyncEngine) -> None:
    async with postgres.begin() as tx:
        await _begin(tx)
        with statements_sent(postgres) as sent, pytest.raises(TypeError, match="returns no rows"):
            await on_driver.fetch(tx, _ADD, _note("x", 1))
    assert sent == []


async def test_under_a_recorded_span_a_statement_goes_through_sqlalchemy_for_its_own_span(
    postgres: AsyncEngine,
) -> None:
    tracer = TracerProvider().get_tracer(__name__)
    async with postgres.begin() as tx:
        await _begin(tx)
        with through_sqlalchemy(postgres) as seen, tracer.start_as_current_span("batch"):
            await on_driver.execute(tx, _ADD, _note("traced", 1))
        with through_sqlalchemy(postgres) as unseen:
            await on_driver.execute(tx, _ADD, _note("untraced", 1))
    assert (len(seen), unseen) == (1, [])


async def test_on_an_autocommit_connection_a_statement_goes_on_the_driver_and_commits_at_once(
    postgres: AsyncEngine,
) -> None:
    """As the outbox relay's connection: every statement commits on its own either way."""
    async with postgres.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        with through_sqlalchemy(postgres) as seen:
            await on_driver.execute(conn, _ADD, _note("at once", 1))
        async with postgres.connect() as other:
            assert (await other.execute(_HOW_MANY)).scalar_one() == 1
    assert seen == []


async def test_a_failed_switch_to_autocommit_leaves_statements_in_the_transaction(
    postgres: AsyncEngine,
) -> None:
    """The option reads AUTOCOMMIT after a refused switch, but the connection is not: its
    statements stay in the transaction, which a rollback takes back."""
    with contextlib.suppress(RuntimeError):
        async with postgres.connect() as conn:
            await conn.begin()
            with pytest.raises(sa_exc.InvalidRequestError):
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            with through_sqlalchemy(postgres) as seen:
                await on_driver.execute(conn, _ADD, _note("held back", 1))
            assert seen == []  # on the driver, after the BEGIN of the transaction begun
            raise RuntimeError("abandon it")
    async with postgres.connect() as conn:
        assert (await conn.execute(_HOW_MANY)).scalar_one() == 0


async def test_the_outbox_relays_read_and_mark_go_on_the_driver(postgres: AsyncEngine) -> None:
    """Its connection is in AUTOCOMMIT: the read and the mark are sent by ``on_driver``."""
    store_metadata = MetaData()
    tables = event_store_tables(store_metadata)
    async with postgres.begin() as tx:
        await tx.run_sync(store_metadata.create_all)
    rows = OutboxRows(tables, "test", postgres=True)
    async with postgres.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        with through_sqlalchemy(postgres) as seen, statements_sent(postgres) as sent:
            assert await rows.pending(conn, 10) == []
            await rows.mark_published(conn, [], datetime.now(UTC))
    assert (seen, len(sent)) == ([], 2)
