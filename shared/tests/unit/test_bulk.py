"""``naervaer.bulk``: many rows in one statement (per-column arrays on PostgreSQL), with the
same rows as an executemany would leave, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    Delete,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.bulk import JsonText, Part, Together, insert_rows, update_rows, upsert_rows
from naervaer.db import DatabaseTarget, create_engine
from naervaer.testing.pytest_plugin import temporary_database
from naervaer.testing.statements import statements_sent

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("thing_id", Text, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("day", Date, nullable=True),
    Column("tags", JSON().with_variant(JSONB(), "postgresql"), nullable=True),
)
marks = Table("marks", metadata, Column("mark", Text, primary_key=True))


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'bulk.db'}"
        else:  # a sync fixture may be requested from here; fresh_database (async) may not
            server = request.getfixturevalue("postgres_url")
            url = await stack.enter_async_context(temporary_database(server))
        made = create_engine(DatabaseTarget(url, None))
        stack.push_async_callback(made.dispose)
        async with made.begin() as tx:
            await tx.run_sync(metadata.create_all)
        yield made


async def _rows(engine: AsyncEngine) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        found = await conn.execute(select(things).order_by(things.c.thing_id))
        return [tuple(row) for row in found]


async def test_rows_go_in_and_change_as_an_executemany_would_leave_them(
    engine: AsyncEngine,
) -> None:
    first = {"thing_id": "a", "count": 1, "day": date(2026, 1, 5), "tags": ["x", {"y": 1}]}
    second = {"thing_id": "b", "count": 2, "day": None, "tags": []}
    async with engine.begin() as tx:
        await insert_rows(tx, things, [first, second])
        await insert_rows(tx, things, [first | {"count": 9}], skip_conflicts=True)  # left out
        await insert_rows(tx, things, [])
        await update_rows(tx, things, "thing_id", [{"thing_id": "b", "count": 5, "tags": None}])
        await update_rows(tx, things, "thing_id", [{"thing_id": "a"}])  # nothing to set
    assert await _rows(engine) == [
        ("a", 1, date(2026, 1, 5), ["x", {"y": 1}]),
        ("b", 5, None, None),
    ]


async def test_an_upsert_replaces_the_rows_whose_key_is_taken_and_inserts_the_others(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as tx:
        await insert_rows(
            tx, things, [{"thing_id": "a", "count": 1, "day": date(2026, 1, 5), "tags": ["x"]}]
        )
        await upsert_rows(
            tx,
            things,
            ("thing_id",),
            [
                {"thing_id": "a", "count": 7, "day": None, "tags": JsonText('{"y":1}')},
                {"thing_id": "b", "count": 2, "day": date(2024, 2, 29), "tags": None},
            ],
        )
        await upsert_rows(tx, things, ("thing_id",), [])
        await upsert_rows(tx, things, ("thing_id",), [{"thing_id": "b", "count": 3}])
    assert await _rows(engine) == [
        ("a", 7, None, {"y": 1}),
        ("b", 3, date(2024, 2, 29), None),  # columns left out of the rows stay as they were
    ]


async def test_json_rendered_already_is_written_as_the_json_it_is(engine: AsyncEngine) -> None:
    """``JsonText`` is the value's JSON, not a string: the arrays' INSERT and UPDATE on
    PostgreSQL (and the COPY in the test below), the executemany on SQLite."""
    async with engine.begin() as tx:
        await insert_rows(
            tx, things, [{"thing_id": "a", "count": 1, "tags": JsonText('{"y":[1]}')}]
        )
        await insert_rows(tx, things, [{"thing_id": "b", "count": 2, "tags": JsonText("[]")}])
        await update_rows(tx, things, "thing_id", [{"thing_id": "b", "tags": JsonText('"z"')}])
    assert await _rows(engine) == [("a", 1, None, {"y": [1]}), ("b", 2, None, "z")]


async def test_on_postgresql_any_number_of_rows_is_one_statement_of_one_shape(
    fresh_database: str,
) -> None:
    made = create_engine(DatabaseTarget(fresh_database, None))
    async with made.begin() as tx:
        await tx.run_sync(metadata.create_all)
    try:
        with statements_sent(made) as sent:
            for size in (1, 3, 40):
                rows = [{"thing_id": f"{size}-{i}", "count": i} for i in range(size)]
                async with made.begin() as tx:
                    await insert_rows(tx, things, rows)
                    await update_rows(tx, things, "thing_id", [r | {"count": -1} for r in rows])
                    await upsert_rows(tx, things, ("thing_id",), [r | {"count": -2} for r in rows])
    finally:
        await made.dispose()
    inserts = [s for s in sent if s.lstrip().startswith("INSERT") and "CONFLICT" not in s]
    upserts = [s for s in sent if s.lstrip().startswith("INSERT") and "CONFLICT" in s]
    updates = [s for s in sent if s.lstrip().startswith("UPDATE")]
    assert len(inserts) == len(updates) == len(upserts) == 3  # one each, whatever the size
    assert len(set(inserts)) == len(set(updates)) == len(set(upserts)) == 1
    assert "unnest" in inserts[0]
    assert "unnest" in upserts[0]


async def test_on_postgresql_rows_inside_a_begun_transaction_go_by_copy_and_leave_the_same_rows(
    fresh_database: str,
) -> None:
    made = create_engine(DatabaseTarget(fresh_database, None))
    async with made.begin() as tx:
        await tx.run_sync(metadata.create_all)
    rows = [
        {"thing_id": "a", "count": 1, "day": date(2026, 1, 5), "tags": ["x", {"y": 1}]},
        {"thing_id": "b", "count": 2, "day": None, "tags": {"z": [None, True]}},
        {"thing_id": "c", "count": 3, "day": date(2024, 2, 29), "tags": None},
        {"thing_id": "e", "count": 4, "day": None, "tags": JsonText('{"w":1}')},
    ]
    try:
        with statements_sent(made) as sent:
            async with made.begin() as tx:
                await tx.execute(select(things.c.thing_id))  # the transaction has begun
                await insert_rows(tx, things, rows)
        with contextlib.suppress(_Undone):  # … and goes back with its transaction
            async with made.begin() as tx:
                await tx.execute(select(things.c.thing_id))
                await insert_rows(tx, things, [rows[0] | {"thing_id": "d"}])
                raise _Undone
        found = await _rows(made)
    finally:
        await made.dispose()
    assert [s for s in sent if "things" in s and not s.lstrip().startswith("SELECT")] == [
        "COPY things"
    ]
    assert found[:3] == [tuple(row.values()) for row in rows[:3]]
    assert found[3] == ("e", 4, None, {"w": 1})


async def test_on_postgresql_rows_without_json_go_by_copy_too_of_any_width(
    fresh_database: str,
) -> None:
    """Records made without JSON to render: several columns, and a table of one."""
    made = create_engine(DatabaseTarget(fresh_database, None))
    async with made.begin() as tx:
        await tx.run_sync(metadata.create_all)
    rows = [  # keys in another order than the table's columns, and than each other's
        {"day": date(2026, 1, 5), "thing_id": "a", "count": 1},
        {"count": 2, "day": None, "thing_id": "b"},
    ]
    try:
        with statements_sent(made) as sent:
            async with made.begin() as tx:
                await tx.execute(select(things.c.thing_id))  # the transaction has begun
                await insert_rows(tx, things, rows)
                await insert_rows(
                    tx, marks, [{"mark": "x-1"}, {"mark": "y-2"}]
                )  # not one letter: a str is a sequence
        found = await _rows(made)
        async with made.connect() as conn:
            marked = (
                (await conn.execute(select(marks.c.mark).order_by(marks.c.mark))).scalars().all()
            )
    finally:
        await made.dispose()
    assert [s for s in sent if not s.lstrip().startswith("SELECT")] == ["COPY things", "COPY marks"]
    assert found == [("a", 1, date(2026, 1, 5), None), ("b", 2, None, None)]
    assert marked == ["x-1", "y-2"]


async def test_writes_together_leave_what_each_alone_leaves_in_one_statement_on_postgresql(
    engine: AsyncEngine,
) -> None:
    """Parts of distinct rows, two of them with the same column names (their binds apart)."""
    async with engine.begin() as tx:
        await insert_rows(tx, things, [{"thing_id": t, "count": 1} for t in ("a", "b")])
        await insert_rows(tx, marks, [{"mark": "m1"}])

    shapes = []
    for size in (1, 3):
        with statements_sent(engine) as sent:
            async with engine.begin() as tx:
                together = Together(tx)
                news = [{"thing_id": f"c{size}-{i}", "count": i} for i in range(size)]
                await together.insert_new(things, [*news, {"thing_id": "a", "count": 9}])
                await together.update(things, "thing_id", [{"thing_id": "b", "count": 4 + size}])
                await together.upsert(
                    things, ("thing_id",), [{"thing_id": f"d{size}", "count": 7, "tags": ["t"]}]
                )
                await together.execute(_unmark, lambda: delete(marks).where(marks.c.mark == "m1"))
                await together.insert_new(marks, [{"mark": f"m{size + 1}"}])
                await together.update(things, "thing_id", [])  # nothing: no part
                await together.send()
                await together.send()  # nothing left: nothing sent
        shapes.append([s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))])
    found = await _rows(engine)
    async with engine.connect() as conn:
        marked = (await conn.execute(select(marks.c.mark).order_by(marks.c.mark))).scalars().all()
    assert found == [
        ("a", 1, None, None),  # its key was taken: left out
        ("b", 7, None, None),  # 4 + the last size
        ("c1-0", 0, None, None),
        *[(f"c3-{i}", i, None, None) for i in range(3)],
        ("d1", 7, None, ["t"]),
        ("d3", 7, None, ["t"]),
    ]
    assert marked == ["m2", "m4"]
    if engine.dialect.name == "postgresql":  # one statement, of one shape for any size
        assert [len(sent) for sent in shapes] == [1, 1], shapes
        assert shapes[0] == shapes[1]
        assert shapes[0][0].lstrip().startswith("WITH")
    else:  # each part on its own
        assert [len(sent) for sent in shapes] == [5, 5], shapes


async def test_two_parts_binding_one_name_are_refused_on_postgresql(fresh_database: str) -> None:
    """A caller's statement that ignores its prefix would overwrite another part's binds."""
    made = create_engine(DatabaseTarget(fresh_database, None))
    async with made.begin() as tx:
        await tx.run_sync(metadata.create_all)
    try:
        async with made.begin() as tx:
            together = Together(tx)
            for _ in range(2):
                await together.execute(lambda _prefix: _unmark("p"), lambda: select(1))
            with pytest.raises(ValueError, match="same name"):
                await together.send()
    finally:
        await made.dispose()


def _unmark(prefix: str) -> Part:
    return _unmark_statement(prefix), {f"{prefix}_m": "m1"}


@functools.cache  # built once per prefix, as ``Together.execute`` asks
def _unmark_statement(prefix: str) -> Delete:
    return delete(marks).where(marks.c.mark == bindparam(f"{prefix}_m"))


class _Undone(Exception):
    pass
