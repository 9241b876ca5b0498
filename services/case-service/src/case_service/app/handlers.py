"""Command handlers: load, authorise, answer a retry, check If-Match, decide once, save.

A retried request (same Idempotency-Key, same body) is answered from the store before the
command is decided again: the first attempt may have made a rule refuse it now (a plan that
exists, a note received), yet the caller must get the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from case_service.adapters.records import EmployeeRepository, PolicyRepository
from case_service.adapters.repository import CaseRepository, CaseVersion
from case_service.adapters.streams import UnitOfWork
from case_service.app.access import case_write_decision, tenant_admin_decision
from case_service.app.commands import (
    CaseCommand,
    Command,
    OpenCase,
    RegisterSelfCertification,
    RestoreSelfCertification,
    SetCasePolicy,
    WithdrawSelfCertification,
)
from case_service.app.meta import CommandMeta
from case_service.domain.case import Case
from case_service.domain.employee import EmployeeRecord
from case_service.domain.tenant_policy import CasePolicy
from naervaer.auth.policy import can_open_case, can_read_tenant_wide
from naervaer.auth.principal import Role
from naervaer.clock import Clock

SELF_CERTIFY = "self_certify"  # policy.EMPLOYEE_ONLY_ACTIONS: the employee's own act


@dataclass(frozen=True)
class EmployeeVersion:
    employee_id: str
    version: int


@dataclass(frozen=True)
class Handlers:
    cases: CaseRepository
    employees: EmployeeRepository
    policies: PolicyRepository
    uow: UnitOfWork
    clock: Clock
    timezone: ZoneInfo

    def today(self) -> date:
        """The employer's calendar day (Norwegian deadlines count local days)."""
        return self.clock.now().astimezone(self.timezone).date()

    async def open_case(self, case_id: str, cmd: OpenCase, meta: CommandMeta) -> CaseVersion:
        tenant = meta.principal.tenant
        # The record names the id as its resource, not as its case: no case exists when access
        # is checked, and a refused, retried or interrupted opening never makes one, so the
        # audit trail would wait in vain for that case to seal the record with its key.
        await meta.authorize(
            can_open_case(meta.principal, tenant),
            operation="open_case",
            resource="case",
            resource_id=case_id,
        )
        write = meta.write(cmd)
        if earlier := await self.cases.earlier(write):
            return earlier
        case = Case(case_id)
        case.open(tenant=tenant, **cmd.model_dump())
        return await self.cases.save(case, write)

    async def on_case(self, case_id: str, cmd: CaseCommand, meta: CommandMeta) -> CaseVersion:
        """Any case command: the command names its action and calls one aggregate method.

        A retry needs no read of its own on the way that writes: the append answers a logged
        command with its first result and writes nothing. Only where deciding again refuses
        (a rule, or If-Match, the first attempt made true) or changes nothing is the command
        log asked first, so a retry gets its first answer there too.
        """
        case = await self._case_for(case_id, cmd.action_on, meta, cmd.only_roles)
        write = meta.write(cmd)
        try:
            meta.check_if_match(case.version)
            cmd.execute(case, self.today())
        except Exception:
            if earlier := await self.cases.earlier(write):
                return earlier
            raise
        if not case.pending and (earlier := await self.cases.earlier(write)):
            return earlier
        return await self.cases.save(case, write)

    async def register_self_certification(
        self, case_id: str, cmd: RegisterSelfCertification, meta: CommandMeta
    ) -> CaseVersion:
        """Egenmelding: the case and the employee's quota ledger change in one transaction."""
        case = await self._case_for(case_id, lambda _case: SELF_CERTIFY, meta)
        write = meta.write(cmd)
        if earlier := await self.cases.earlier(write):
            return earlier
        meta.check_if_match(case.version)
        assert case.tenant is not None
        assert case.opened is not None
        employee = await self.employees.get(case.tenant, case.opened.employee_id)
        policy = await self.policies.get(case.tenant)
        case.register_self_certification(
            period_start=cmd.period_start,
            period_end=cmd.period_end,
            employee=employee,
            policy=policy,
        )
        async with self.uow.begin() as connection:
            result = await self.cases.save(case, write, connection=connection)
            if not result.duplicate:
                await self.employees.save(
                    employee, case.tenant, write.follow_on(), connection=connection
                )
        return result

    async def withdraw_self_certification(
        self, employee_id: str, cmd: WithdrawSelfCertification, meta: CommandMeta
    ) -> EmployeeVersion:
        def decide(record: EmployeeRecord, today: date) -> None:
            record.withdraw_self_certification(reason=cmd.reason, today=today)

        return await self._on_employee(
            employee_id, "withdraw_self_certification", cmd, meta, decide
        )

    async def restore_self_certification(
        self, employee_id: str, cmd: RestoreSelfCertification, meta: CommandMeta
    ) -> EmployeeVersion:
        def decide(record: EmployeeRecord, today: date) -> None:
            record.restore_self_certification(today=today)

        return await self._on_employee(employee_id, "restore_self_certification", cmd, meta, decide)

    async def case_policy(self, tenant: str, meta: CommandMeta) -> CasePolicy:
        await meta.authorize(
            can_read_tenant_wide(meta.principal, tenant),
            operation="read",
            resource="case_policy",
            resource_id=tenant,
        )
        return await self.policies.get(tenant)

    async def set_case_policy(
        self, tenant: str, cmd: SetCasePolicy, meta: CommandMeta
    ) -> CasePolicy:
        await meta.authorize(
            tenant_admin_decision(meta.principal, tenant, "set_case_policy"),
            operation="set_case_policy",
            resource="case_policy",
            resource_id=tenant,
        )
        write = meta.write(cmd)
        if earlier := await self.policies.earlier(write):
            return await self.policies.get(tenant, to_version=earlier.version)
        policy = await self.policies.get(tenant)
        meta.check_if_match(policy.version)
        policy.change(
            quota=cmd.self_certification_quota, quota_breach=cmd.quota_breach, today=self.today()
        )
        await self.policies.save(policy, write)
        return policy

    async def _case_for(
        self,
        case_id: str,
        action_of: Callable[[Case], str],
        meta: CommandMeta,
        only: frozenset[Role] | None = None,
    ) -> Case:
        """The case, once the caller may perform the action on it (recorded either way).

        An erased case answers 410 after the access check, so another tenant still sees 404.
        """
        case = (await self.cases.get(case_id)).case
        action = action_of(case)
        await meta.authorize(
            case_write_decision(meta.principal, case, action, only),
            operation=action,
            resource="case",
            resource_id=case_id,
            case_id=case_id,
        )
        case.require_not_erased()
        return case

    async def _on_employee(
        self,
        employee_id: str,
        action: str,
        cmd: Command,
        meta: CommandMeta,
        decide: Callable[[EmployeeRecord, date], None],
    ) -> EmployeeVersion:
        tenant = meta.principal.tenant
        await meta.authorize(
            tenant_admin_decision(meta.principal, tenant, action),
            operation=action,
            resource="employee",
            resource_id=employee_id,
        )
        write = meta.write(cmd)
        if earlier := await self.employees.earlier(write):
            return EmployeeVersion(employee_id, earlier.version)
        record = await self.employees.get(tenant, employee_id)
        meta.check_if_match(record.version)
        decide(record, self.today())
        return EmployeeVersion(employee_id, await self.employees.save(record, tenant, write))
