"""Employee-level events: the right to self-certify (egenmeldingsrett)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from naervaer.contracts._base import Contract
from naervaer.registry import EventRegistry


class SelfCertificationWithdrawn(Contract):
    """The employer withdrew the employee's right to self-certify after misuse (ftrl § 8-27)."""

    employee_id: str
    withdrawn_on: date
    reason: str = Field(min_length=1)


class SelfCertificationRestored(Contract):
    """The employee's right to self-certify was restored."""

    employee_id: str
    restored_on: date


class SelfCertificationUsed(Contract):
    """The employee used self-certification (egenmelding) in a case: the quota's ledger.

    Recorded on the employee's stream in the same transaction as the case's
    ``case.self_certification_registered``: the quota counts per employee across cases, and the
    employee stream's version makes two concurrent uses unable to both pass the quota check.
    """

    employee_id: str
    case_id: str
    period_start: date
    period_end: date
    days: int = Field(ge=1, description="Calendar days covered.")
    flagged: bool = Field(default=False, description="Accepted although it breaks the quota.")


def register_employee_events(registry: EventRegistry) -> None:
    registry.register("employee.self_certification_withdrawn", SelfCertificationWithdrawn)
    registry.register("employee.self_certification_restored", SelfCertificationRestored)
    registry.register("employee.self_certification_used", SelfCertificationUsed)
