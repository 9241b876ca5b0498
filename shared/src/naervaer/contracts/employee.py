"""Employee-level events: the right to self-certify (egenmeldingsrett)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from naervaer.contracts._base import Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry


class SelfCertificationWithdrawn(Contract):
    """The employer withdrew the employee's right to self-certify after misuse (ftrl § 8-27)."""

    employee_id: PersonalStr
    withdrawn_on: date
    reason: PersonalStr = Field(min_length=1)


class SelfCertificationRestored(Contract):
    """The employee's right to self-certify was restored."""

    employee_id: PersonalStr
    restored_on: date


class SelfCertificationUsed(Contract):
    """The employee used self-certification (egenmelding) in a case: the quota's ledger.

    Recorded on the employee's stream in the same transaction as the case's
    ``case.self_certification_registered``: the quota counts per employee across cases, and the
    employee stream's version makes two concurrent uses unable to both pass the quota check.
    """

    employee_id: PersonalStr
    case_id: str
    period_start: date
    period_end: date
    days: int = Field(ge=1, description="Calendar days covered.")
    flagged: bool = Field(default=False, description="Accepted although it breaks the quota.")


class LegalHoldPlaced(Contract):
    """A legal hold (rettslig hold) stops erasure of the employee's data, e.g. during a dispute."""

    employee_id: PersonalStr
    reason: PersonalStr = Field(min_length=1)
    placed_on: date


class LegalHoldLifted(Contract):
    """The legal hold was lifted: erasure after the retention period applies again."""

    employee_id: PersonalStr
    lifted_on: date


class PersonalDataErased(Contract):
    """The employee's personal data was erased (slettet) after the retention period.

    Their key was destroyed (crypto-shredding): every value sealed with it is unreadable in the
    event store, on the topics and in the audit trail, which still verifies. On this event every
    service deletes what it derived about ``case_ids``. It names no person: only the destroyed
    key and the cases.
    """

    key_id: str = Field(description="The destroyed key (as in the sealed values, pd1.<key id>.…).")
    case_ids: list[str] = Field(description="The employee's cases, all closed.")
    erased_on: date
    basis: Literal["retention_expired"] = Field(
        description="Why: the tenant's retention period after the last case closed has passed."
    )
    retention_months: int = Field(ge=0, description="The tenant's retention period applied.")
    last_closed_on: date = Field(description="When the employee's last case closed.")


def register_employee_events(registry: EventRegistry) -> None:
    registry.register("employee.self_certification_withdrawn", SelfCertificationWithdrawn)
    registry.register("employee.self_certification_restored", SelfCertificationRestored)
    registry.register("employee.self_certification_used", SelfCertificationUsed)
    registry.register("employee.legal_hold_placed", LegalHoldPlaced)
    registry.register("employee.legal_hold_lifted", LegalHoldLifted)
    registry.register("employee.personal_data_erased", PersonalDataErased)
