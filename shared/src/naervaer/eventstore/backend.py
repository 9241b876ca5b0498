"""The contract between ``EventStore`` and its two write paths (PostgreSQL, SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.eventstore.model import AppendBatch


@dataclass(frozen=True)
class Appended:
    """The batch was written: the stream is now at ``version``."""

    version: int
    first_position: int


@dataclass(frozen=True)
class Duplicate:
    """The batch's command had been appended before; nothing was written."""


class Appender(Protocol):
    async def append(self, conn: AsyncConnection, batch: AppendBatch) -> Appended | Duplicate:
        """Write ``batch`` inside the caller's transaction on ``conn``.

        Raises ``ConcurrencyConflict`` when the stream is not at the expected version; the
        caller then rolls the transaction (or savepoint) back.
        """
        ...
