"""Tenant (employer) level events: the case policy each employer sets for itself."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from naervaer.contracts._base import Contract
from naervaer.registry import EventRegistry

SelfCertificationQuota = Literal["standard", "ia"]
QuotaBreach = Literal["refuse", "flag"]


class CasePolicyChanged(Contract):
    """The employer changed its case policy (how self-certification quotas apply)."""

    tenant: str
    self_certification_quota: SelfCertificationQuota = Field(
        description="standard: up to 3 calendar days each time, 4 times in 12 months "
        "(ftrl § 8-24); ia: the IA-agreement variant, up to 8 days each time and 24 days in "
        "12 months."
    )
    quota_breach: QuotaBreach = Field(
        description="refuse a self-certification that breaks the quota, or accept it flagged."
    )
    changed_on: date


DEFAULT_RETENTION_MONTHS = 36
"""Retention when a tenant set none: three years after the employee's last case closed."""


class RetentionPolicySet(Contract):
    """How long the employer keeps follow-up data after an employee's last case closed.

    After ``months_after_close`` months, unless a legal hold stops it, the employee's personal
    data is erased (``employee.personal_data_erased``).
    """

    tenant: str
    months_after_close: int = Field(ge=0, le=600)
    changed_on: date


def register_tenant_events(registry: EventRegistry) -> None:
    registry.register("tenant.case_policy_changed", CasePolicyChanged)
    registry.register("tenant.retention_policy_set", RetentionPolicySet)
