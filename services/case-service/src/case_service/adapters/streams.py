"""Appending an aggregate's pending events, and finding what a retried command wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.contracts import CONTRACTS
from naervaer.eventstore import AppendResult, EventStore, NewEvent


@dataclass(frozen=True)
class Write:
    """How a command's events are appended: its idempotency identity and its correlation.

    ``command_id`` names the request (tenant, caller, route and Idempotency-Key) and
    ``fingerprint`` hashes its body, so a retry is recognised and a reused key refused.
    """

    command_id: str | None = None
    fingerprint: str | None = None
    correlation_id: str | None = None

    def follow_on(self) -> Write:
        """For a second stream in the same transaction: the command is logged once only."""
        return Write(correlation_id=self.correlation_id)


class UnitOfWork:
    """One transaction across streams (e.g. a case and its employee's quota ledger)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.begin() as connection:
            yield connection


async def append_pending(
    store: EventStore,
    stream_id: str,
    pending: Sequence[BaseModel],
    *,
    stream_type: str,
    tenant: str,
    expected_version: int,
    write: Write,
    connection: AsyncConnection | None = None,
) -> AppendResult:
    """Append contract events, each under its registered type and schema version."""
    events = [
        NewEvent(
            type=CONTRACTS.type_of(event).name,
            data=event,
            schema_version=CONTRACTS.type_of(event).version,
        )
        for event in pending
    ]
    return await store.append(
        stream_id,
        events,
        tenant=tenant,
        stream_type=stream_type,
        expected_version=expected_version,
        command_id=write.command_id,
        command_fingerprint=write.fingerprint,
        correlation_id=write.correlation_id,
        connection=connection,
    )


async def earlier_result(store: EventStore, write: Write) -> AppendResult | None:
    """The first result of ``write``'s command when it ran before (a retried request)."""
    if write.command_id is None:
        return None
    return await store.command_result(write.command_id, fingerprint=write.fingerprint)


async def load_events(
    store: EventStore, stream_id: str, to_version: int | None = None
) -> tuple[list[BaseModel], int]:
    """A stream's events as contract payloads, and its version (0 when it does not exist)."""
    envelopes = await store.read_stream(stream_id, to_version=to_version)
    version = envelopes[-1].streamversion if envelopes else 0
    return [CONTRACTS.payload(envelope) for envelope in envelopes], version
