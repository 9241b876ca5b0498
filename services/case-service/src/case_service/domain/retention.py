"""Retention (oppbevaringstid) and erasure (sletting) of an employee's personal data.

The employer keeps follow-up data for a number of months after the employee's last case
closed (the tenant's retention policy, ``tenant:{tenant}``); then it must be erased, unless a
legal hold (rettslig hold) stops it. Pure rules with concrete dates: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel

from case_service.domain.errors import NotFound, StateConflict
from naervaer.contracts.tenant import DEFAULT_RETENTION_MONTHS, RetentionPolicySet

CASE_OPEN = "case_open"
LEGAL_HOLD = "legal_hold"
RETENTION_NOT_ELAPSED = "retention_not_elapsed"
NOTHING_HELD = "nothing_held"


@dataclass(frozen=True)
class CaseClosure:
    """One of the employee's cases as retention sees it: open (``closed_on`` None) or closed."""

    case_id: str
    closed_on: date | None


@dataclass(frozen=True)
class RetentionStatus:
    """Where the employee stands: open and closed cases, and from when erasure is due."""

    open_cases: tuple[str, ...]
    closed_cases: tuple[CaseClosure, ...]
    last_closed_on: date | None
    erasable_from: date | None  # None while a case is open (or none is held)


@dataclass(frozen=True)
class Erasure:
    """What an erasure covers: every case of the employee, all closed long enough ago."""

    case_ids: tuple[str, ...]
    last_closed_on: date
    retention_months: int


def erasable_from(last_closed_on: date, months: int) -> date:
    """The day erasure is due: the last close plus the retention months (31 Jan + 1 → 28 Feb)."""
    return last_closed_on + relativedelta(months=months)


def retention_status(cases: Sequence[CaseClosure], months: int) -> RetentionStatus:
    open_cases = tuple(sorted(case.case_id for case in cases if case.closed_on is None))
    closed = tuple(sorted((c for c in cases if c.closed_on is not None), key=_by_close))
    last = max((case.closed_on for case in closed if case.closed_on), default=None)
    due = erasable_from(last, months) if last is not None and not open_cases else None
    return RetentionStatus(open_cases, closed, last, due)


def decide_erasure(
    cases: Sequence[CaseClosure], *, months: int, legal_hold: bool, today: date
) -> Erasure:
    """Erasure is allowed when every case is closed, the retention period has passed since
    the last close (last close + months ≤ today) and no legal hold stands."""
    if not cases:
        raise NotFound(NOTHING_HELD, "no case of this employee is held")
    status = retention_status(cases, months)
    if status.open_cases:
        raise StateConflict(
            CASE_OPEN,
            f"a case is still open ({', '.join(status.open_cases)}): data is kept while a "
            "case is open",
            open_cases=list(status.open_cases),
        )
    if legal_hold:
        raise StateConflict(LEGAL_HOLD, "a legal hold stops erasure; lift it first")
    assert status.last_closed_on is not None
    assert status.erasable_from is not None
    if today < status.erasable_from:
        raise StateConflict(
            RETENTION_NOT_ELAPSED,
            f"the retention period of {months} months after the last case closed "
            f"({status.last_closed_on}) has not passed: erasable from {status.erasable_from}",
            erasable_from=status.erasable_from.isoformat(),
        )
    case_ids = tuple(sorted(case.case_id for case in cases))
    return Erasure(case_ids, status.last_closed_on, months)


def _by_close(case: CaseClosure) -> tuple[date, str]:
    assert case.closed_on is not None
    return case.closed_on, case.case_id


@dataclass
class RetentionPolicy:
    """A tenant's retention period (as of the version of the tenant stream it was loaded at)."""

    tenant: str
    version: int = 0
    months_after_close: int = DEFAULT_RETENTION_MONTHS
    changed_on: date | None = None  # None: never set, the default applies
    pending: list[BaseModel] = field(default_factory=list)

    @classmethod
    def replay(cls, tenant: str, events: list[BaseModel], version: int) -> RetentionPolicy:
        policy = cls(tenant, version)
        for event in events:
            policy._apply(event)
        return policy

    def set(self, *, months_after_close: int, today: date) -> None:
        """Set the period; setting what already holds records nothing (PUT is idempotent)."""
        if self.changed_on is not None and months_after_close == self.months_after_close:
            return
        event = RetentionPolicySet(
            tenant=self.tenant, months_after_close=months_after_close, changed_on=today
        )
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: BaseModel) -> None:
        if isinstance(event, RetentionPolicySet):
            self.months_after_close = event.months_after_close
            self.changed_on = event.changed_on
