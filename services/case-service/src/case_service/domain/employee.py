"""The employee's own record: the right to self-certify (egenmeldingsrett) and its quota,
legal holds (rettslig hold) and erasures (sletting) of their personal data.

Kept on the employee's stream (``employee:{tenant}:{subject ref}``, a keyed hash of the id),
apart from any case: the quota counts uses across cases, and appending each use to this one
stream (at its expected version) means two concurrent self-certifications can never both pass
the quota check; likewise an erasure and a legal hold placed at the same moment cannot both
succeed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel

from case_service.domain.errors import RuleBroken, StateConflict
from case_service.domain.periods import Period, twelve_months_before
from case_service.domain.retention import Erasure
from case_service.domain.tenant_policy import CasePolicy, Quota
from naervaer.contracts.employee import (
    LegalHoldLifted,
    LegalHoldPlaced,
    PersonalDataErased,
    SelfCertificationRestored,
    SelfCertificationUsed,
    SelfCertificationWithdrawn,
)


@dataclass(frozen=True)
class QuotaBreach:
    rule: str
    detail: str


@dataclass
class EmployeeRecord:
    employee_id: str
    version: int = 0
    withdrawn: bool = False
    uses: list[Period] = field(default_factory=list)
    legal_hold: bool = False
    erased_keys: set[str] = field(default_factory=set)
    erased_cases: set[str] = field(default_factory=set)
    pending: list[BaseModel] = field(default_factory=list)

    @classmethod
    def replay(cls, employee_id: str, events: list[BaseModel], version: int) -> EmployeeRecord:
        record = cls(employee_id, version)
        for event in events:
            record._apply(event)
        return record

    def withdraw_self_certification(self, *, reason: str, today: date) -> None:
        """The employer withdraws the right after misuse (ftrl § 8-27)."""
        if self.withdrawn:
            raise RuleBroken(
                "self_certification_already_withdrawn", "the right is withdrawn already"
            )
        self._record(
            SelfCertificationWithdrawn(
                employee_id=self.employee_id, withdrawn_on=today, reason=reason
            )
        )

    def restore_self_certification(self, *, today: date) -> None:
        if not self.withdrawn:
            raise RuleBroken("self_certification_not_withdrawn", "the right is not withdrawn")
        self._record(SelfCertificationRestored(employee_id=self.employee_id, restored_on=today))

    def place_legal_hold(self, *, reason: str, today: date) -> None:
        """A legal hold stops erasure, e.g. while a dispute about the follow-up is pending."""
        if self.legal_hold:
            raise StateConflict("legal_hold_already_placed", "a legal hold is placed already")
        self._record(LegalHoldPlaced(employee_id=self.employee_id, reason=reason, placed_on=today))

    def lift_legal_hold(self, *, today: date) -> None:
        if not self.legal_hold:
            raise StateConflict("no_legal_hold", "no legal hold is placed")
        self._record(LegalHoldLifted(employee_id=self.employee_id, lifted_on=today))

    def record_erasure(self, key_id: str, erasure: Erasure, *, today: date) -> None:
        """The employee's personal data is erased: key ``key_id`` is to be destroyed.

        Recording the same key's erasure again records nothing (a retried erasure).
        """
        if self.legal_hold:  # decide_erasure checked it; the record is the last word
            raise StateConflict("legal_hold", "a legal hold stops erasure; lift it first")
        if key_id in self.erased_keys:
            return
        self._record(
            PersonalDataErased(
                key_id=key_id,
                case_ids=list(erasure.case_ids),
                erased_on=today,
                basis="retention_expired",
                retention_months=erasure.retention_months,
                last_closed_on=erasure.last_closed_on,
            )
        )

    def use_self_certification(
        self, case_id: str, period: Period, policy: CasePolicy
    ) -> str | None:
        """Record a use; refuse it, or return why it is flagged, when it breaks the quota."""
        if self.withdrawn:
            raise RuleBroken(
                "self_certification_withdrawn",
                "the employee's right to self-certify is withdrawn: a sick note is needed",
            )
        breach = quota_breach(policy.quota, self.uses, period)
        if breach is not None and policy.quota_breach == "refuse":
            raise RuleBroken(breach.rule, breach.detail)
        self._record(
            SelfCertificationUsed(
                employee_id=self.employee_id,
                case_id=case_id,
                period_start=period.start,
                period_end=period.end,
                days=period.days,
                flagged=breach is not None,
            )
        )
        return None if breach is None else f"{breach.rule}: {breach.detail}"

    def _record(self, event: BaseModel) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: BaseModel) -> None:
        if isinstance(event, SelfCertificationWithdrawn):
            self.withdrawn = True
        elif isinstance(event, SelfCertificationRestored):
            self.withdrawn = False
        elif isinstance(event, SelfCertificationUsed):
            self.uses.append(Period(event.period_start, event.period_end))
        elif isinstance(event, LegalHoldPlaced | LegalHoldLifted):
            self.legal_hold = isinstance(event, LegalHoldPlaced)
        elif isinstance(event, PersonalDataErased):
            self.erased_keys.add(event.key_id)
            self.erased_cases.update(event.case_ids)


def quota_breach(quota: Quota, uses: list[Period], period: Period) -> QuotaBreach | None:
    """How ``period`` breaks ``quota`` given the earlier ``uses``, or None.

    The 12 months are those up to the new period: uses starting after the same day a year
    before its start and no later than its end.
    """
    if period.days > quota.max_days_each:
        return QuotaBreach(
            "self_certification_too_long",
            f"{period.days} days at a time; the {quota.name} quota allows "
            f"{quota.max_days_each} calendar days",
        )
    since = twelve_months_before(period.start)
    recent = [use for use in uses if since < use.start <= period.end]
    if quota.max_times is not None and len(recent) >= quota.max_times:
        return QuotaBreach(
            "self_certification_quota_exceeded",
            f"self-certification number {len(recent) + 1} in 12 months; the {quota.name} quota "
            f"allows {quota.max_times}",
        )
    days = sum(use.days for use in recent) + period.days
    if quota.max_days_total is not None and days > quota.max_days_total:
        return QuotaBreach(
            "self_certification_quota_exceeded",
            f"{days} self-certified days in 12 months; the {quota.name} quota allows "
            f"{quota.max_days_total}",
        )
    return None
