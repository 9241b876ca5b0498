"""SQL on the projection's tables (PostgreSQL and SQLite alike)."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import structlog
from sqlalchemy import Row, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.digest import TimerKey as TimerKey
from deadline_service.adapters.tables import cases, erased_cases
from deadline_service.domain.calendar import years_before
from deadline_service.domain.facts import RecordedEvent
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.maxdate import COUNT_YEARS, SickPayHistory
from deadline_service.domain.timeline import Obligation
from naervaer import on_driver
from naervaer.bulk import insert_rows
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened
from naervaer.db import among
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, unseal_data

log = structlog.get_logger(__name__)


@dataclass(frozen=True)  # not slots: ``sick_pay_days`` is cached in the instance's dict
class CaseHeader:
    """Who a case belongs to: what the access policy and the worklist filter on."""

    case_id: str
    tenant: str
    employee_id: str
    manager_id: str
    org_unit: str
    case_start: date | None
    sick_pay_iso: tuple[str, ...]  # its known sick-pay weekdays as its row keeps them
    last_sick_day: date | None = None
    key_id: str | None = None  # the employee key its events (and its notices) are sealed with
    timeline_digest: str | None = None  # see ``adapters.digest``

    @cached_property
    def sick_pay_days(self) -> frozenset[date]:
        """Its known sick-pay weekdays, read into dates only when asked: most reads of a
        case (each recomputation reads the case itself) never count them, and a long
        absence has hundreds."""
        return frozenset(map(date.fromisoformat, self.sick_pay_iso))


def recorded(row: Row[Any]) -> RecordedEvent:
    """A stored case event as the fold takes it: opened with the employee's key, upcast
    (the keys must be loaded: ``KEYRING.load_data``)."""
    return RecordedEvent(str(row.event_id), _payload(row))


def _payload(row: Row[Any]) -> Any:
    data = unseal_data(dict(row.data), KEYRING.lookup)
    data = CONTRACTS.upcast(row.type, row.schema_version, data)
    return CONTRACTS.get(row.type).model.model_validate(data)


async def save_case(tx: AsyncConnection, values: dict[str, Any]) -> None:
    """Store a newly opened case's row (an existing row stays)."""
    await save_cases(tx, [values])


async def save_cases(tx: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Store newly opened cases' rows, no sick-pay days yet (an existing row stays)."""
    fresh = [{"sick_pay_days": [], **row} for row in rows]
    await insert_rows(tx, cases, fresh, skip_conflicts=True)


def opened_row(envelope: Envelope, event: CaseOpened) -> dict[str, Any]:
    """The row ``case.opened`` stores (sick-pay days and the timeline come with folds)."""
    return {
        "case_id": event.case_id,
        "tenant": envelope.tenant,
        "employee_id": event.employee_id,
        "manager_id": event.manager_id,
        "org_unit": event.org_unit,
        "case_start": event.first_absence_day,
        "version": envelope.streamversion,
        "updated_at": envelope.time,
    }


def new_header(values: dict[str, Any]) -> CaseHeader:
    """The header ``case_family`` reads of a row just stored by ``save_case``."""
    return CaseHeader(
        case_id=values["case_id"],
        tenant=values["tenant"],
        employee_id=values["employee_id"],
        manager_id=values["manager_id"],
        org_unit=values["org_unit"],
        case_start=values["case_start"],
        sick_pay_iso=(),
    )


def _header(row: Row[Any]) -> CaseHeader:
    return CaseHeader(
        case_id=row.case_id,
        tenant=row.tenant,
        employee_id=row.employee_id,
        manager_id=row.manager_id,
        org_unit=row.org_unit,
        case_start=row.case_start,
        sick_pay_iso=tuple(row.sick_pay_days),
        last_sick_day=row.last_sick_day,
        key_id=row.key_id,
        timeline_digest=row.timeline_digest,
    )


async def load_case(tx: AsyncConnection, case_id: str) -> CaseHeader | None:
    row = (await tx.execute(select(cases).where(cases.c.case_id == case_id))).first()
    return None if row is None else _header(row)


async def cases_of(tx: AsyncConnection, tenant: str, employee_id: str) -> list[CaseHeader]:
    """The employee's cases in the tenant, the earliest first."""
    result = await tx.execute(
        select(cases)
        .where(cases.c.tenant == tenant, cases.c.employee_id == employee_id)
        .order_by(cases.c.case_start, cases.c.case_id)
    )
    return [_header(row) for row in result]


async def case_family(tx: AsyncConnection, case_id: str) -> list[CaseHeader]:
    """The case and the employee's other cases in its tenant, the earliest first, in one
    statement (empty if the case is not known): what a recomputation reads of ``cases``."""
    rows = await on_driver.fetch(tx, _FAMILY, {"family_case_id": case_id})
    return [_header(row) for row in rows]


def _family_statement() -> Select[Any]:
    me = (
        select(cases.c.tenant, cases.c.employee_id)
        .where(cases.c.case_id == bindparam("family_case_id"))
        .subquery("me")
    )
    same = and_(cases.c.tenant == me.c.tenant, cases.c.employee_id == me.c.employee_id)
    return select(cases).join(me, same).order_by(cases.c.case_start, cases.c.case_id)


_FAMILY = _family_statement()  # built once: one is read per event


def _families_statement(dialect: str) -> Select[Any]:
    """The families of the cases in ``family_case_ids``: ``_FAMILY`` for many at once."""
    me = (
        select(cases.c.tenant, cases.c.employee_id)
        .where(among(cases.c.case_id, "family_case_ids", dialect))
        .distinct()
        .subquery("me")
    )
    same = and_(cases.c.tenant == me.c.tenant, cases.c.employee_id == me.c.employee_id)
    return select(cases).join(me, same).order_by(*_ORDER)


def _erased_statement(dialect: str) -> Select[Any]:
    columns = (erased_cases.c.tenant, erased_cases.c.case_id)
    return select(*columns).where(among(erased_cases.c.case_id, "ids", dialect))


# Within a family, the order ``case_family`` reads it in (the database sorts, with its own
# collation and place for a case without a start).
_ORDER = (cases.c.tenant, cases.c.employee_id, cases.c.case_start, cases.c.case_id)
_FAMILIES = {dialect: _families_statement(dialect) for dialect in ("postgresql", "sqlite")}
_ERASED = {dialect: _erased_statement(dialect) for dialect in ("postgresql", "sqlite")}


TenantCase = tuple[str, str]  # tenant, case id: a case as its tenant's events name it


def member(family: Sequence[CaseHeader], case_id: str) -> CaseHeader | None:
    """The case ``case_id`` among ``family`` (None: not stored yet, or erased)."""
    return next((c for c in family if c.case_id == case_id), None)


def of_another_tenant(case: CaseHeader | None, envelope: Envelope) -> bool:
    """Whether the event names a case stored for another tenant than its own: ignored, with a
    warning (case ids never repeat across tenants: a malformed or hostile producer)."""
    if case is None or case.tenant == envelope.tenant:
        return False
    log.warning(
        "event names another tenant's case; ignored",
        event_id=str(envelope.id),
        event_type=envelope.type,
        tenant=envelope.tenant,
    )
    return True


async def erased_among(
    tx: AsyncConnection, tenant_cases: Iterable[TenantCase]
) -> frozenset[TenantCase]:
    """Which of ``tenant_cases`` their tenant erased (``erasure.is_erased`` for many at once)."""
    asked = set(tenant_cases)
    found: set[TenantCase] = set()
    unique = sorted({case_id for _, case_id in asked})
    for start in range(0, len(unique), 1_000):  # bound values well below the limits
        chunk = unique[start : start + 1_000]
        rows = await on_driver.fetch(tx, _ERASED[tx.dialect.name], {"ids": chunk})
        found.update((row.tenant, row.case_id) for row in rows)
    return frozenset(found & asked)


Home = tuple[str, str]  # tenant, employee id: whose cases form a family


async def families_of(
    tx: AsyncConnection, case_ids: Iterable[str], employees: Iterable[Home]
) -> dict[Home, list[CaseHeader]]:
    """The family of each stored case among ``case_ids`` and of each (tenant, employee) in
    ``employees``: ``case_family`` for many cases at once, each family in its order."""
    ids, pairs = sorted(set(case_ids)), set(employees)
    families: dict[Home, dict[str, CaseHeader]] = {}
    for start in range(0, len(ids), 1_000):  # bound values well below the limits
        chunk = ids[start : start + 1_000]
        statement = _FAMILIES[tx.dialect.name]
        _gather(families, await on_driver.fetch(tx, statement, {"family_case_ids": chunk}))
    people = sorted({employee for _, employee in pairs})
    for start in range(0, len(people), 1_000):
        chunk = people[start : start + 1_000]
        statement = select(cases).where(cases.c.employee_id.in_(chunk)).order_by(*_ORDER)
        rows = [
            row for row in await tx.execute(statement) if (row.tenant, row.employee_id) in pairs
        ]
        _gather(families, rows)
    return {home: list(members.values()) for home, members in families.items()}


def _gather(families: dict[Home, dict[str, CaseHeader]], rows: Iterable[Row[Any]]) -> None:
    """Add the rows, in the database's order, to their families (a case already in stays)."""
    for row in rows:
        members = families.setdefault((row.tenant, row.employee_id), {})
        members.setdefault(row.case_id, _header(row))


def sick_pay_history(others: Iterable[CaseHeader], start: date) -> SickPayHistory:
    """Sick-pay days of the employee's other cases before ``start`` within the counting
    window, and the last sick day before ``start`` of those cases (ftrl § 8-12)."""
    window = years_before(start, COUNT_YEARS)
    earlier = [c for c in others if c.case_start and c.case_start < start]
    days = frozenset(d for c in earlier for d in c.sick_pay_days if window < d < start)
    last = [c.last_sick_day for c in earlier if c.last_sick_day and c.last_sick_day < start]
    return SickPayHistory(days, max(last, default=None))


CASE_COLUMNS = ("case_id", "tenant", "manager_id", "org_unit", "employee_id")
"""What an obligation row holds of its case rather than of its obligation (the same in every
row of the case: ``adapters.digest`` hashes them once); its other columns are the
obligation's fields, an enum as its value."""


_CASE_VALUES = operator.attrgetter(*CASE_COLUMNS)  # the header's fields are named alike


def case_values(case: CaseHeader) -> tuple[str, ...]:
    """The values of ``CASE_COLUMNS`` for ``case``, in that order."""
    values: tuple[str, ...] = _CASE_VALUES(case)
    return values


def obligation_row(case: CaseHeader, o: Obligation) -> dict[str, Any]:
    """The timeline row of ``o``, an obligation of ``case``; its enums as their values (a
    StrEnum's ``str()``: a plain str, about four times quicker than ``.value``)."""
    # Written out, not built from CASE_COLUMNS (the test of the digest checks that the two
    # agree).
    return {
        "case_id": case.case_id,
        "kind": str(o.kind),
        "tenant": case.tenant,
        "due_date": o.due_date,
        "state": str(o.state),
        "milestone": o.milestone,
        "responsible": str(o.responsible),
        "legal_basis": o.legal_basis,
        "fulfilled_by": o.fulfilled_by,
        "rule_version": o.rule_version,
        "manager_id": case.manager_id,
        "org_unit": case.org_unit,
        "employee_id": case.employee_id,
    }


def obligation_of(row: Any) -> Obligation:
    """A stored timeline row back as the domain's obligation (to derive its status)."""
    return Obligation(
        kind=ObligationKind(row.kind),
        due_date=row.due_date,
        state=State(row.state),
        responsible=Responsible(row.responsible),
        legal_basis=row.legal_basis,
        fulfilled_by=row.fulfilled_by,
        milestone=row.milestone,
        rule_version=row.rule_version,
    )
