"""Erasure (sletting) of an employee's personal data after the retention period.

Order matters for crash safety: the ``employee.personal_data_erased`` event is appended first
(its command id is derived from the key id, so a retry appends nothing twice), then the key is
destroyed (crypto-shredding). The service's own consumer of that event destroys the key too,
so a crash between the two still ends with the key gone. The erasure covers every case of the
employee the summaries know; cases erased before are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

import structlog

from case_service.adapters.employee_cases import EmployeeCases
from case_service.adapters.records import EmployeeRepository, RetentionRepository
from case_service.adapters.streams import Write
from case_service.domain.employee import EmployeeRecord
from case_service.domain.errors import DomainError
from case_service.domain.retention import CaseClosure, decide_erasure
from naervaer.clock import Clock
from naervaer.eventstore import ConcurrencyConflict
from naervaer.privacy.keyring import KEYRING
from naervaer.privacy.keyvault import KeyVault

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class ErasureDone:
    key_id: str
    case_ids: tuple[str, ...]
    erased_on: date


@dataclass(frozen=True)
class Eraser:
    employees: EmployeeRepository
    retention: RetentionRepository
    cases: EmployeeCases
    vault: KeyVault
    clock: Clock
    timezone: ZoneInfo

    def today(self) -> date:
        """The employer's calendar day: retention counts local days."""
        return self.clock.now().astimezone(self.timezone).date()

    async def held(self, tenant: str, employee_id: str) -> tuple[EmployeeRecord, list[CaseClosure]]:
        """The employee's record and their cases not erased yet."""
        record = await self.employees.get(tenant, employee_id)
        closures = await self.cases.closures(tenant, employee_id)
        return record, [c for c in closures if c.case_id not in record.erased_cases]

    async def erase(
        self, tenant: str, employee_id: str, *, correlation_id: str | None = None
    ) -> ErasureDone:
        """Erase the employee's personal data; refused (``DomainError``) unless eligible."""
        record, cases = await self.held(tenant, employee_id)
        policy = await self.retention.get(tenant)
        today = self.today()
        erasure = decide_erasure(
            cases, months=policy.months_after_close, legal_hold=record.legal_hold, today=today
        )
        key_id = (await self.vault.key_for(tenant, employee_id)).key_id
        record.record_erasure(key_id, erasure, today=today)
        write = Write(command_id=f"erasure:{tenant}:{key_id}", correlation_id=correlation_id)
        await self.employees.save(record, tenant, write)
        await self.vault.shred(key_id)
        KEYRING.forget(key_id)
        log.info("personal data erased", tenant=tenant, cases=len(erasure.case_ids))
        return ErasureDone(key_id, erasure.case_ids, today)

    async def sweep(self, tenant: str) -> list[ErasureDone]:
        """Erase every eligible employee of ``tenant``; the others are left as they are."""
        done = []
        for employee_id in await self.cases.without_open_cases(tenant):
            try:
                done.append(await self.erase(tenant, employee_id))
            except (DomainError, ConcurrencyConflict):
                continue  # retention not passed, a legal hold (maybe placed just now) …
        return done

    async def sweep_all(self) -> list[ErasureDone]:
        """The periodic sweep: every tenant the service holds cases of."""
        done = []
        for tenant in await self.cases.tenants():
            done.extend(await self.sweep(tenant))
        return done
