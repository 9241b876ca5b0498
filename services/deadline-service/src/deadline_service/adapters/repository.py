"""SQL on the projection's tables (PostgreSQL and SQLite alike)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Row, and_, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters.tables import case_events, cases, obligations, timers
from deadline_service.domain.calendar import years_before
from deadline_service.domain.facts import RecordedEvent
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.maxdate import COUNT_YEARS, SickPayHistory
from deadline_service.domain.timeline import Obligation
from naervaer.contracts import CONTRACTS
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource, unseal_data

TimerKey = tuple[str, str, date]  # kind, stage, due date


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
    timeline_digest: str | None = None  # see ``timeline_digest``


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
    await KEYRING.load_data((row.data for row in rows), keys)
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
    me = (
        select(cases.c.tenant, cases.c.employee_id).where(cases.c.case_id == case_id).subquery("me")
    )
    same = and_(cases.c.tenant == me.c.tenant, cases.c.employee_id == me.c.employee_id)
    result = await tx.execute(
        select(cases).join(me, same).order_by(cases.c.case_start, cases.c.case_id)
    )
    return [_header(row) for row in result]


def sick_pay_history(others: Iterable[CaseHeader], start: date) -> SickPayHistory:
    """Sick-pay days of the employee's other cases before ``start`` within the counting
    window, and the last sick day before ``start`` of those cases (ftrl § 8-12)."""
    window = years_before(start, COUNT_YEARS)
    earlier = [c for c in others if c.case_start and c.case_start < start]
    days = frozenset(d for c in earlier for d in c.sick_pay_days if window < d < start)
    last = [c.last_sick_day for c in earlier if c.last_sick_day and c.last_sick_day < start]
    return SickPayHistory(days, max(last, default=None))


def obligation_rows(case: CaseHeader, found: Sequence[Obligation]) -> list[dict[str, Any]]:
    return [_obligation_row(case, o) for o in found]


def timeline_digest(rows: Sequence[dict[str, Any]], wanted: dict[TimerKey, date]) -> str:
    """'<obligations>:<timers>': equal digests mean equal rows to write (nothing but this
    projection writes them, and the scheduler only marks timers fired, which the timer sync
    leaves alone; a reassignment clears the obligations part)."""
    timer_rows = sorted((*key, fire_on) for key, fire_on in wanted.items())
    return f"{_digest(rows)}:{_digest(timer_rows)}"


def without_obligations(digest: str | None) -> str:
    """The digest once the obligation rows changed behind it (a reassignment): the next
    recomputation then rewrites them, whatever it finds."""
    return ":" + (digest or "").partition(":")[2]


def _digest(value: Any) -> str:
    text = json.dumps(value, default=str, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


async def replace_obligations(
    tx: AsyncConnection, case_id: str, rows: Sequence[dict[str, Any]]
) -> None:
    await tx.execute(delete(obligations).where(obligations.c.case_id == case_id))
    if rows:
        await tx.execute(insert(obligations), list(rows))


async def reassign_obligations(tx: AsyncConnection, case_id: str, manager_id: str) -> None:
    """The case's timeline rows carry its manager (the worklist filters on it)."""
    statement = update(obligations).where(obligations.c.case_id == case_id)
    await tx.execute(statement.values(manager_id=manager_id))


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


async def sync_timers(tx: AsyncConnection, case: CaseHeader, wanted: dict[TimerKey, date]) -> None:
    """Make the case's unfired timers exactly ``wanted`` (key → fire_on); fired ones stay.

    Two statements whatever the number of timers: delete the unfired ones not wanted, insert
    the wanted ones not there yet (a fired timer with a wanted key stays as it is, so a
    deadline event is never sent twice). The ``fired_at IS NULL`` test runs in the DELETE
    itself, so a timer the scheduler fires meanwhile is never deleted.
    """
    t = timers.c
    stale = delete(timers).where(t.case_id == case.case_id, t.fired_at.is_(None))
    if wanted:
        stale = stale.where(tuple_(t.kind, t.stage, t.due_date).not_in(list(wanted)))
    await tx.execute(stale)
    if wanted:
        rows = list(_timer_rows(case, wanted, wanted))
        await tx.execute(_insert(tx, timers).on_conflict_do_nothing(), rows)


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
