"""The employee's and the tenant's own streams: the self-certification right and quota ledger
(``employee:{tenant}:{employee_id}``) and the tenant's case policy (``tenant:{tenant}``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.streams import Write, append_pending, earlier_result, load_events
from case_service.domain.employee import EmployeeRecord
from case_service.domain.tenant_policy import CasePolicy
from naervaer.eventstore import AppendResult, EventStore


def employee_stream(tenant: str, employee_id: str) -> str:
    return f"employee:{tenant}:{employee_id}"


def tenant_stream(tenant: str) -> str:
    return f"tenant:{tenant}"


class EmployeeRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def get(self, tenant: str, employee_id: str) -> EmployeeRecord:
        """The employee's record; an employee never seen has an empty one (version 0)."""
        events, version = await load_events(self.store, employee_stream(tenant, employee_id))
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
            employee_stream(tenant, record.employee_id),
            record.pending,
            stream_type="employee",
            tenant=tenant,
            expected_version=record.version,
            write=write,
            connection=connection,
        )
        record.pending.clear()
        return result.version

    async def earlier(self, write: Write) -> AppendResult | None:
        return await earlier_result(self.store, write)


class PolicyRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def get(self, tenant: str, *, to_version: int | None = None) -> CasePolicy:
        """The tenant's case policy; the defaults when it never set one (version 0)."""
        events, version = await load_events(self.store, tenant_stream(tenant), to_version)
        return CasePolicy.replay(tenant, events, version)

    async def earlier(self, write: Write) -> AppendResult | None:
        return await earlier_result(self.store, write)

    async def save(self, policy: CasePolicy, write: Write) -> int:
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
