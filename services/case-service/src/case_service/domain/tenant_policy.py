"""The employer's case policy: which self-certification quota applies, and what a breach does.

Kept on the tenant's own stream (``tenant:{tenant}``); a tenant that never set one gets the
defaults of the law: the standard quota, breaches refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel

from naervaer.contracts.tenant import CasePolicyChanged, QuotaBreach, SelfCertificationQuota


@dataclass(frozen=True)
class Quota:
    """Limits on self-certification (egenmelding) per employee in 12 months."""

    name: str
    max_days_each: int
    max_times: int | None = None
    max_days_total: int | None = None


QUOTAS: dict[str, Quota] = {
    # ftrl § 8-24: up to 3 calendar days at a time, 4 times in 12 months.
    "standard": Quota("standard", max_days_each=3, max_times=4),
    # The IA-agreement variant: up to 8 days at a time, 24 days in 12 months.
    "ia": Quota("ia", max_days_each=8, max_days_total=24),
}


@dataclass
class CasePolicy:
    """A tenant's case policy (as of the version it was loaded at)."""

    tenant: str
    version: int = 0
    self_certification_quota: SelfCertificationQuota = "standard"
    quota_breach: QuotaBreach = "refuse"
    pending: list[BaseModel] = field(default_factory=list)

    @classmethod
    def replay(cls, tenant: str, events: list[BaseModel], version: int) -> CasePolicy:
        policy = cls(tenant, version)
        for event in events:
            policy._apply(event)
        return policy

    @property
    def quota(self) -> Quota:
        return QUOTAS[self.self_certification_quota]

    def change(
        self, *, quota: SelfCertificationQuota, quota_breach: QuotaBreach, today: date
    ) -> None:
        """Set the policy; setting what already holds records nothing (PUT is idempotent)."""
        if (quota, quota_breach) == (self.self_certification_quota, self.quota_breach):
            return
        event = CasePolicyChanged(
            tenant=self.tenant,
            self_certification_quota=quota,
            quota_breach=quota_breach,
            changed_on=today,
        )
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: BaseModel) -> None:
        if isinstance(event, CasePolicyChanged):
            self.self_certification_quota = event.self_certification_quota
            self.quota_breach = event.quota_breach
