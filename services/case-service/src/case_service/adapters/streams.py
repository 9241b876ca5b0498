"""Appending an aggregate's pending events, and finding what a retried command wrote.

Events about an employee are sealed before they are appended: their personal fields are
encrypted with the employee's key (crypto-shredding), so erasing the employee is destroying the
key. Reading a stream loads the keys of what it read into ``KEYRING`` before decoding.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.contracts import CONTRACTS
from naervaer.envelope import Envelope
from naervaer.eventstore import AppendResult, EventStore, NewEvent
from naervaer.privacy.keyring import KEYRING, KeySource
from naervaer.privacy.sealer import Sealer, plan_of


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


@dataclass(frozen=True)
class Subject:
    """Whose personal data a stream's events carry: sealed with that employee's key."""

    sealer: Sealer
    employee_id: str


async def sealed(
    tenant: str, pending: Sequence[BaseModel], subject: Subject | None
) -> list[BaseModel | dict[str, Any]]:
    """The payloads to store: with their personal fields sealed when they have any.

    Events without a personal field (a tenant's policy, an erasure) are stored as they are,
    and make no key: an erasure retried after the key was destroyed must not make a new one.
    """
    if subject is None or not any(plan_of(type(event)) for event in pending):
        return list(pending)
    return list(await subject.sealer.for_employee(tenant, subject.employee_id, pending))


async def append_pending(
    store: EventStore,
    stream_id: str,
    pending: Sequence[BaseModel],
    *,
    stream_type: str,
    tenant: str,
    expected_version: int,
    write: Write,
    subject: Subject | None = None,
    connection: AsyncConnection | None = None,
) -> AppendResult:
    """Append contract events, each under its registered type and schema version."""
    datas = await sealed(tenant, pending, subject)
    events = [
        NewEvent(
            type=CONTRACTS.type_of(event).name,
            data=data,
            schema_version=CONTRACTS.type_of(event).version,
        )
        for event, data in zip(pending, datas, strict=True)
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


async def read_unsealed(
    store: EventStore, stream_id: str, keys: KeySource, **read: Any
) -> list[Envelope]:
    """A stream's envelopes, their keys loaded so that ``CONTRACTS.payload`` can open them."""
    envelopes = await store.read_stream(stream_id, **read)
    await KEYRING.load(envelopes, keys)
    return envelopes


async def load_events(
    store: EventStore, stream_id: str, keys: KeySource, to_version: int | None = None
) -> tuple[list[BaseModel], int]:
    """A stream's events as contract payloads, and its version (0 when it does not exist)."""
    envelopes = await read_unsealed(store, stream_id, keys, to_version=to_version)
    version = envelopes[-1].streamversion if envelopes else 0
    return [CONTRACTS.payload(envelope) for envelope in envelopes], version
