"""SQL on the projection's tables (PostgreSQL and SQLite alike)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.keys import load_keys
from deadline_service.adapters.tables import case_events, cases, obligations, timers
from deadline_service.domain.calendar import years_before
from deadline_service.domain.facts import RecordedEvent
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.maxdate import COUNT_YEARS, SickPayHistory
from deadline_service.domain.timeline import Obligation
from naervaer.contracts import CONTRACTS
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource, unseal_data


@dataclass(frozen=True)
class CaseHeader:
    """Who a case belongs to: what the access policy and the worklist filter on."""

    case_id: str
    tenant: str
    employee_id: str
    manager_id: str
    org_unit: str
    case_start: date | None
    sick_pay_days: frozenset[date]
    last_sick_day: date | None = None
    key_id: str | None = None  # the employee key its events (and its notices) are sealed with


def _insert(tx: AsyncConnection, table: Any) -> Any:
    return (postgresql if tx.dialect.name == "postgresql" else sqlite).insert(table)


async def store_event(tx: AsyncConnection, envelope: Envelope) -> None:
    statement = _insert(tx, case_events).values(
        case_id=envelope.streamid,
        stream_version=envelope.streamversion,
        event_id=envelope.id,
        type=envelope.type,
        schema_version=envelope.schemaversion,
        data=envelope.data,
    )
    await tx.execute(statement.on_conflict_do_nothing())


async def load_events(tx: AsyncConnection, case_id: str, keys: KeySource) -> list[RecordedEvent]:
    """The case's stored events in stream order, as current contract payloads (upcast).

    They are stored as they came, sealed; they are opened here with the employee's key.
    """
    rows = (
        await tx.execute(
            select(case_events)
            .where(case_events.c.case_id == case_id)
            .order_by(case_events.c.stream_version)
        )
    ).all()
    await load_keys((row.data for row in rows), keys)
    return [RecordedEvent(str(row.event_id), _payload(row)) for row in rows]


def _payload(row: Row[Any]) -> Any:
    data = unseal_data(dict(row.data), KEYRING.lookup)
    data = CONTRACTS.upcast(row.type, row.schema_version, data)
    return CONTRACTS.get(row.type).model.model_validate(data)


async def save_case(tx: AsyncConnection, values: dict[str, Any]) -> None:
    statement = _insert(tx, cases).values(sick_pay_days=[], **values)
    await tx.execute(statement.on_conflict_do_nothing(index_elements=["case_id"]))


async def update_case(tx: AsyncConnection, case_id: str, **values: Any) -> None:
    await tx.execute(update(cases).where(cases.c.case_id == case_id).values(**values))


async def remember_key(tx: AsyncConnection, case_id: str, key_id: str) -> None:
    """The case's key, from the first of its events that carries one."""
    statement = update(cases).where(cases.c.case_id == case_id, cases.c.key_id.is_(None))
    await tx.execute(statement.values(key_id=key_id))


def _header(row: Row[Any]) -> CaseHeader:
    return CaseHeader(
        case_id=row.case_id,
        tenant=row.tenant,
        employee_id=row.employee_id,
        manager_id=row.manager_id,
        org_unit=row.org_unit,
        case_start=row.case_start,
        sick_pay_days=frozenset(date.fromisoformat(d) for d in row.sick_pay_days),
        last_sick_day=row.last_sick_day,
        key_id=row.key_id,
    )


async def load_case(tx: AsyncConnection, case_id: str) -> CaseHeader | None:
    row = (await tx.execute(select(cases).where(cases.c.case_id == case_id))).first()
    return None if row is None else _header(row)


async def employee_cases(tx: AsyncConnection, case: CaseHeader) -> list[CaseHeader]:
    """The employee's other cases in the tenant."""
    found = await cases_of(tx, case.tenant, case.employee_id)
    return [other for other in found if other.case_id != case.case_id]


async def cases_of(tx: AsyncConnection, tenant: str, employee_id: str) -> list[CaseHeader]:
    """The employee's cases in the tenant, the earliest first."""
    result = await tx.execute(
        select(cases)
        .where(cases.c.tenant == tenant, cases.c.employee_id == employee_id)
        .order_by(cases.c.case_start, cases.c.case_id)
    )
    return [_header(row) for row in result]


async def sick_pay_history(tx: AsyncConnection, case: CaseHeader, start: date) -> SickPayHistory:
    """Sick-pay days of the employee's cases before ``start`` within the counting window."""
    window = years_before(start, COUNT_YEARS)
    earlier = [c for c in await employee_cases(tx, case) if c.case_start and c.case_start < start]
    days = frozenset(d for c in earlier for d in c.sick_pay_days if window < d < start)
    statement = select(func.max(cases.c.last_sick_day)).where(
        cases.c.case_id.in_([c.case_id for c in earlier]), cases.c.last_sick_day < start
    )
    return SickPayHistory(days, (await tx.execute(statement)).scalar())


async def replace_obligations(
    tx: AsyncConnection, case: CaseHeader, found: Sequence[Obligation]
) -> None:
    await tx.execute(delete(obligations).where(obligations.c.case_id == case.case_id))
    if found:
        await tx.execute(insert(obligations), [_obligation_row(case, o) for o in found])


def _obligation_row(case: CaseHeader, o: Obligation) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "kind": o.kind.value,
        "tenant": case.tenant,
        "due_date": o.due_date,
        "state": o.state.value,
        "milestone": o.milestone,
        "responsible": o.responsible.value,
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


TimerKey = tuple[str, str, date]  # kind, stage, due date


async def sync_timers(tx: AsyncConnection, case: CaseHeader, wanted: dict[TimerKey, date]) -> None:
    """Make the case's unfired timers exactly ``wanted`` (key → fire_on); fired ones stay."""
    t = timers.c
    mine = t.case_id == case.case_id
    rows = await tx.execute(select(t.kind, t.stage, t.due_date, t.fired_at).where(mine))
    existing = {(r.kind, r.stage, r.due_date): r.fired_at for r in rows}
    stale = [key for key, fired in existing.items() if fired is None and key not in wanted]
    for kind, stage, due in stale:
        same = (t.kind == kind, t.stage == stage, t.due_date == due)
        await tx.execute(delete(timers).where(mine, *same))
    new = [key for key in wanted if key not in existing]
    if new:
        await tx.execute(insert(timers), list(_timer_rows(case, new, wanted)))


def _timer_rows(
    case: CaseHeader, keys: Iterable[TimerKey], wanted: dict[TimerKey, date]
) -> Iterable[dict[str, Any]]:
    for kind, stage, due in keys:
        yield {
            "case_id": case.case_id,
            "kind": kind,
            "stage": stage,
            "due_date": due,
            "tenant": case.tenant,
            "fire_on": wanted[(kind, stage, due)],
            "fired_at": None,
            "event_id": None,
        }
