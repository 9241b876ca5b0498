"""Privacy handlers for HR: the retention policy, legal holds, an employee's retention status,
erasure and the sweep. Each authorises (and so writes its access record) before it acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from case_service.app.access import hr_decision
from case_service.app.commands import PlaceLegalHold, SetRetentionPolicy
from case_service.app.commands.base import Command
from case_service.app.erasure import Eraser, ErasureDone
from case_service.app.meta import CommandMeta
from case_service.domain.employee import EmployeeRecord
from case_service.domain.retention import RetentionPolicy, RetentionStatus, retention_status

RETENTION_RESOURCE = "retention_policy"
EMPLOYEE_RESOURCE = "employee"


@dataclass(frozen=True)
class EmployeeRetention:
    """Where an employee stands: their cases, from when erasure is due, hold and erasure."""

    status: RetentionStatus
    months_after_close: int
    legal_hold: bool
    erased: bool  # personal data of theirs was erased before (any cases listed are newer)


@dataclass(frozen=True)
class Privacy:
    eraser: Eraser

    async def retention_policy(self, meta: CommandMeta) -> RetentionPolicy:
        tenant = meta.principal.tenant
        await self._authorize(meta, "read", RETENTION_RESOURCE, tenant)
        return await self.eraser.retention.get(tenant)

    async def set_retention_policy(
        self, cmd: SetRetentionPolicy, meta: CommandMeta
    ) -> RetentionPolicy:
        tenant = meta.principal.tenant
        await self._authorize(meta, "set_retention_policy", RETENTION_RESOURCE, tenant)
        write = meta.write(cmd)
        if earlier := await self.eraser.retention.earlier(write):
            return await self.eraser.retention.get(tenant, to_version=earlier.version)
        policy = await self.eraser.retention.get(tenant)
        meta.check_if_match(policy.version)
        policy.set(months_after_close=cmd.months_after_close, today=self.eraser.today())
        await self.eraser.retention.save(policy, write)
        return policy

    async def place_legal_hold(
        self, employee_id: str, cmd: PlaceLegalHold, meta: CommandMeta
    ) -> EmployeeRecord:
        def decide(record: EmployeeRecord) -> None:
            record.place_legal_hold(reason=cmd.reason, today=self.eraser.today())

        return await self._on_employee(employee_id, "place_legal_hold", cmd, meta, decide)

    async def lift_legal_hold(self, employee_id: str, meta: CommandMeta) -> EmployeeRecord:
        def decide(record: EmployeeRecord) -> None:
            record.lift_legal_hold(today=self.eraser.today())

        return await self._on_employee(employee_id, "lift_legal_hold", None, meta, decide)

    async def retention_of(self, employee_id: str, meta: CommandMeta) -> EmployeeRetention:
        tenant = meta.principal.tenant
        await self._authorize(meta, "read", "retention", employee_id)
        return await self.status(tenant, employee_id)

    async def status(self, tenant: str, employee_id: str) -> EmployeeRetention:
        """The employee's retention status (no access check: the caller made it)."""
        record, cases = await self.eraser.held(tenant, employee_id)
        months = (await self.eraser.retention.get(tenant)).months_after_close
        return EmployeeRetention(
            retention_status(cases, months), months, record.legal_hold, bool(record.erased_keys)
        )

    async def erase(self, employee_id: str, meta: CommandMeta) -> ErasureDone:
        tenant = meta.principal.tenant
        await self._authorize(meta, "erase_personal_data", EMPLOYEE_RESOURCE, employee_id)
        return await self.eraser.erase(tenant, employee_id, correlation_id=meta.correlation_id)

    async def sweep(self, meta: CommandMeta) -> list[ErasureDone]:
        tenant = meta.principal.tenant
        await self._authorize(meta, "erasure_sweep", "tenant", tenant)
        return await self.eraser.sweep(tenant)

    async def _on_employee(
        self,
        employee_id: str,
        action: str,
        cmd: Command | None,
        meta: CommandMeta,
        decide: Callable[[EmployeeRecord], None],
    ) -> EmployeeRecord:
        tenant = meta.principal.tenant
        await self._authorize(meta, action, EMPLOYEE_RESOURCE, employee_id)
        write = meta.write(cmd or Command())
        employees = self.eraser.employees
        if earlier := await employees.earlier(write):
            return await employees.get(tenant, employee_id, to_version=earlier.version)
        record = await employees.get(tenant, employee_id)
        meta.check_if_match(record.version)
        decide(record)
        record.version = await employees.save(record, tenant, write)
        return record

    async def _authorize(
        self, meta: CommandMeta, operation: str, resource: str, resource_id: str
    ) -> None:
        await meta.authorize(
            hr_decision(meta.principal, operation),
            operation=operation,
            resource=resource,
            resource_id=resource_id,
        )
