"""Command handlers: load the case, call one domain method, append its events."""

from __future__ import annotations

from dataclasses import dataclass

from case_service.adapters.repository import CaseRepository, CaseVersion
from case_service.app.commands import CommandMeta, OpenCase
from case_service.app.errors import NotAllowed
from case_service.domain.case import Case
from naervaer.auth.policy import can_open_case


@dataclass(frozen=True)
class Handlers:
    cases: CaseRepository

    async def open_case(self, cmd: OpenCase, meta: CommandMeta) -> CaseVersion:
        decision = can_open_case(meta.principal, meta.principal.tenant)
        if not decision.allowed:
            raise NotAllowed(decision)
        case = Case(cmd.case_id)
        case.open(
            tenant=meta.principal.tenant,
            employee_id=cmd.employee_id,
            manager_id=cmd.manager_id,
            org_unit=cmd.org_unit,
            first_absence_day=cmd.first_absence_day,
            began_with=cmd.began_with,
        )
        return await self.cases.save(
            case,
            meta.principal.tenant,
            command_id=meta.command_id("open_case"),
            correlation_id=meta.correlation_id,
        )
