"""The employee's and the tenant's own streams: the employee's record (self-certification
right and quota ledger, legal holds, erasures) on ``employee:{tenant}:{subject ref}``, and the
tenant's case and retention policies on ``tenant:{tenant}``.

The employee stream is named by the key vault's keyed hash of the employee, never the plain
id: stream ids are not sealed, and must not say who the stream is about.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.streams import (
    Subject,
    Write,
    append_pending,
    earlier_result,
    load_events,
)
from case_service.domain.employee import EmployeeRecord
from case_service.domain.retention import RetentionPolicy
from case_service.domain.tenant_policy import CasePolicy
from naervaer.eventstore import AppendResult, EventStore
from naervaer.privacy.keyring import KeySource
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer


def employee_stream(vault: KeyVault, tenant: str, employee_id: str) -> str:
    return f"employee:{tenant}:{vault.subject_ref(tenant, employee_id)}"


def tenant_stream(tenant: str) -> str:
    return f"tenant:{tenant}"


class EmployeeRepository:
    def __init__(self, store: EventStore, sealer: Sealer) -> None:
        self.store = store
        self.sealer = sealer

    def stream(self, tenant: str, employee_id: str) -> str:
        return employee_stream(self.sealer.vault, tenant, employee_id)

    async def get(
        self, tenant: str, employee_id: str, *, to_version: int | None = None
    ) -> EmployeeRecord:
        """The employee's record; an employee never seen has an empty one (version 0)."""
        stream = self.stream(tenant, employee_id)
        events, version = await load_events(self.store, stream, self.sealer.vault, to_version)
        return EmployeeRecord.replay(employee_id, events, version)

    async def save(
        self,
        record: EmployeeRecord,
        tenant: str,
        write: Write,
        *,
        connection: AsyncConnection | None = None,
    ) -> int:
        result = await append_pending(
            self.store,
            self.stream(tenant, record.employee_id),
            record.pending,
            stream_type="employee",
            tenant=tenant,
            expected_version=record.version,
            write=write,
            subject=Subject(self.sealer, record.employee_id),
            connection=connection,
        )
        record.pending.clear()
        return result.version

    async def earlier(self, write: Write) -> AppendResult | None:
        return await earlier_result(self.store, write)


class TenantRecord(Protocol):
    """A policy kept on the tenant's stream (case policy, retention policy)."""

    tenant: str
    version: int
    pending: list[BaseModel]


class _TenantStream:
    """Loads and saves one policy kept on the tenant stream; its events name no person."""

    def __init__(self, store: EventStore, keys: KeySource) -> None:
        self.store = store
        self.keys = keys

    async def _events(self, tenant: str, to_version: int | None) -> tuple[list[BaseModel], int]:
        return await load_events(self.store, tenant_stream(tenant), self.keys, to_version)

    async def earlier(self, write: Write) -> AppendResult | None:
        return await earlier_result(self.store, write)

    async def save(self, policy: TenantRecord, write: Write) -> int:
        if not policy.pending:  # the policy already was what was asked for
            return policy.version
        result = await append_pending(
            self.store,
            tenant_stream(policy.tenant),
            policy.pending,
            stream_type="tenant",
            tenant=policy.tenant,
            expected_version=policy.version,
            write=write,
        )
        policy.pending.clear()
        policy.version = result.version
        return result.version


class PolicyRepository(_TenantStream):
    async def get(self, tenant: str, *, to_version: int | None = None) -> CasePolicy:
        """The tenant's case policy; the defaults when it never set one (version 0)."""
        events, version = await self._events(tenant, to_version)
        return CasePolicy.replay(tenant, events, version)


class RetentionRepository(_TenantStream):
    async def get(self, tenant: str, *, to_version: int | None = None) -> RetentionPolicy:
        """The tenant's retention policy; the default period when it never set one."""
        events, version = await self._events(tenant, to_version)
        return RetentionPolicy.replay(tenant, events, version)
