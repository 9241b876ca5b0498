"""The read side's questions: which summaries a caller may see, and the unit's statistics.

``visibility`` is the listing's version of ``naervaer.auth.policy.can_read_case``: one
predicate per role, so the database can apply it. A test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from case_service.adapters.statistics import StatisticsReader
from case_service.adapters.summary_reader import Cursor, SummaryFilters, SummaryReader, Visibility
from case_service.app.statistics_absence import (
    AbsenceCase,
    AbsenceStatistics,
    Period,
    Thresholds,
    absence_statistics,
    months_before,
)
from case_service.app.summary_days import Segment, SummaryFacts
from case_service.app.summary_state import SummaryState
from naervaer.auth.policy import ROLE_PRECEDENCE, CaseRef, Decision
from naervaer.auth.principal import Principal, Role

TENANT_WIDE_READERS = frozenset({Role.HR, Role.AUDITOR, Role.SYSTEM, Role.NAV, Role.BHT})
"""Roles that may read every case of their tenant (can_read_case allows them any case)."""
STATISTICS_READERS = frozenset({Role.HR, Role.AUDITOR})
"""Absence statistics name employees with repeated absence: HR and auditors only."""


@dataclass(frozen=True)
class CaseSummary:
    """One case summary (saksoversikt) as projected."""

    tenant: str
    state: SummaryState
    facts: SummaryFacts
    version: int
    updated_at: datetime

    @property
    def case_id(self) -> str:
        return self.state.case_id

    def ref(self) -> CaseRef:
        """What the access policy needs; the manager is the *current* one."""
        s = self.state
        return CaseRef(self.tenant, s.case_id, s.employee_id, s.manager_id, s.org_unit)


class CaseSummaries:
    """Reads summaries; what a caller may see is applied by the database."""

    def __init__(self, reader: SummaryReader) -> None:
        self._reader = reader

    async def get(self, case_id: str) -> CaseSummary | None:
        """The summary of ``case_id`` whatever its tenant: check access before showing it."""
        row = await self._reader.get(case_id)
        return summary_from_row(row) if row is not None else None

    async def visible_to(
        self, principal: Principal, filters: SummaryFilters, *, limit: int, after: Cursor | None
    ) -> tuple[list[CaseSummary], Cursor | None]:
        rows, following = await self._reader.page(
            visibility(principal), filters, limit=limit, after=after
        )
        return [summary_from_row(row) for row in rows], following


class UnitStatistics:
    """Absence statistics of one org unit of the caller's tenant."""

    def __init__(self, reader: StatisticsReader) -> None:
        self._reader = reader

    async def absence(
        self,
        tenant: str,
        org_unit: str,
        period: Period,
        *,
        headcount: int | None,
        thresholds: Thresholds,
    ) -> AbsenceStatistics:
        # The flags look back further than the period: fetch every case they may count.
        lookback = months_before(period.end, thresholds.lookback_months) + timedelta(days=1)
        rows = await self._reader.unit_cases(
            tenant, org_unit, since=min(period.start, lookback), until=period.end
        )
        cases = [
            AbsenceCase(row.case_id, row.employee_id, tuple(map(Segment.from_json, row.absence)))
            for row in rows
        ]
        return absence_statistics(cases, period, headcount=headcount, thresholds=thresholds)


def visibility(principal: Principal) -> Visibility:
    """The cases ``principal`` may list; never beyond the principal's own tenant."""
    roles = principal.roles
    return Visibility(
        tenant=principal.tenant,
        all_cases=bool(roles & TENANT_WIDE_READERS),
        employee_id=principal.subject if Role.EMPLOYEE in roles else None,
        manager_id=principal.subject if Role.MANAGER in roles else None,
    )


def statistics_decision(principal: Principal) -> Decision:
    """May ``principal`` read the absence statistics of their tenant?"""
    for role in ROLE_PRECEDENCE:
        if role in principal.roles and role in STATISTICS_READERS:
            return Decision(True, f"absence statistics for {role.value}", role)
    held = ", ".join(sorted(principal.roles)) or "none"
    return Decision(False, f"no role permits reading absence statistics (roles: {held})")


def summary_from_row(row: Mapping[Any, Any]) -> CaseSummary:
    """A ``case_summaries`` row as the summary it stores."""
    facts = SummaryFacts(
        case_start=row["case_start"],
        last_absence_day=row["last_absence_day"],
        current_grade=row["current_grade"],
        days_absent=row["days_absent"],
        employer_period_end=row["employer_period_end"],
        segments=tuple(Segment.from_json(raw) for raw in row["absence"]),
    )
    return CaseSummary(
        tenant=row["tenant"],
        state=SummaryState.model_validate(row["state"]),
        facts=facts,
        version=row["version"],
        updated_at=row["updated_at"],
    )
