"""Commands on the employer's own records: an employee's right to self-certify, the policy."""

from __future__ import annotations

from pydantic import Field

from case_service.app.commands.base import Command, text_field
from naervaer.contracts.tenant import QuotaBreach, SelfCertificationQuota


class WithdrawSelfCertification(Command):
    """The employer withdraws the employee's right to self-certify after misuse (ftrl § 8-27)."""

    reason: str = text_field("Why the right is withdrawn.", max_length=1000)


class RestoreSelfCertification(Command):
    """The employee's right to self-certify is restored."""


class SetCasePolicy(Command):
    """The employer's case policy: which self-certification quota, and what a breach does."""

    self_certification_quota: SelfCertificationQuota = Field(
        description="standard: up to 3 days each time, 4 times in 12 months; ia: up to 8 days "
        "each time, 24 days in 12 months."
    )
    quota_breach: QuotaBreach = Field(
        description="refuse a self-certification that breaks the quota, or accept it flagged."
    )
