"""What an engine sends to its database: for tests that count statements (issue 8).

SQLAlchemy's ``before_cursor_execute`` sees every statement it runs, but not those sent on the
transaction's asyncpg connection: ``naervaer.on_driver``'s statements and the ``COPY``s of
``naervaer.bulk``; those are recorded here too (a COPY as ``COPY <table>``), so a count still
tells every round trip. ``through_sqlalchemy`` records SQLAlchemy's alone, for tests of which
way a statement went.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer import on_driver


@contextmanager
def through_sqlalchemy(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements ``engine`` runs through SQLAlchemy meanwhile (none sent on the driver)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@contextmanager
def statements_sent(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements ``engine`` runs meanwhile (an executemany counts once), and every
    ``naervaer.on_driver`` statement and ``COPY`` sent meanwhile on an asyncpg connection of
    this process."""
    copy = asyncpg.Connection.copy_records_to_table
    send = on_driver._send

    with through_sqlalchemy(engine) as sent:

        async def recorded_send(raw: asyncpg.Connection, sql: str, args: list[Any]) -> list[Any]:
            sent.append(sql)
            return await send(raw, sql, args)

        async def recorded_copy(self: asyncpg.Connection, table_name: str, **kwargs: Any) -> Any:
            sent.append(f"COPY {table_name}")
            return await copy(self, table_name, **kwargs)

        asyncpg.Connection.copy_records_to_table = recorded_copy
        on_driver._send = recorded_send
        try:
            yield sent
        finally:
            on_driver._send = send
            asyncpg.Connection.copy_records_to_table = copy
