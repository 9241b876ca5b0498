"""Durable deadline timers: each stage of each open obligation becomes one deadline event.

A tick takes one case at a time, locked (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas
share the work; SQLite serialises writers anyway), appends the case's due deadline events to
the service's own event store and marks their timers fired, all in one transaction. The command
id ``case:kind:stage:due_date`` makes a retried append a no-op, so no event is ever doubled.

The notices' personal fields (employee and manager) are sealed with the case's employee key.
When that key is destroyed (the employee's data was erased) nothing is published for the case:
its due timers are settled without an event, and the erasure event then deletes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from deadline_service.adapters import repository as repo
from deadline_service.adapters.tables import cases, obligations, timers
from deadline_service.domain.kinds import Stage, State
from naervaer.clock import Clock
from naervaer.contracts.deadline import DEADLINE_EVENTS, DeadlineNotice
from naervaer.eventstore import EventStore, NewEvent
from naervaer.privacy.sealer import Sealer, SubjectErased

log = structlog.get_logger(__name__)
STAGE_ORDER = {stage.value: index for index, stage in enumerate(Stage)}


class DeadlineScheduler:
    """Fires due timers; ``run`` loops until stopped, waking every poll or on ``wake()``."""

    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        clock: Clock,
        sealer: Sealer,
        *,
        zone: ZoneInfo,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._store = store
        self._clock = clock
        self._sealer = sealer
        self._zone = zone
        self._poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()

    def today(self) -> date:
        return self._clock.now().astimezone(self._zone).date()

    def wake(self) -> None:
        """Look at the clock now (e.g. after the dev clock moved)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:  # the database may be briefly away: try again next poll
                log.exception("deadline scheduler tick failed")
            await self._sleep(stop)

    async def tick(self) -> int:
        """Fire every timer due today or earlier; returns the number of events appended."""
        fired = 0
        while (count := await self._fire_one_case(self.today())) is not None:
            fired += count
        return fired

    async def pending(self) -> int:
        """Timers due by today and not fired yet (0 once the scheduler has caught up)."""
        due = _due(self.today()).with_only_columns(func.count())
        async with self._engine.connect() as conn:
            return int((await conn.execute(due)).scalar_one())

    async def _sleep(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(
                waiters, timeout=self._poll_interval_s, return_when="FIRST_COMPLETED"
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        self._wake.clear()

    async def _fire_one_case(self, today: date) -> int | None:
        """Fire the due timers of one case nobody else holds; None when none is left."""
        async with self._engine.begin() as conn:
            case_id = await _lock_a_due_case(conn, today)
            if case_id is None:
                return None
            result = await conn.execute(_due(today).where(timers.c.case_id == case_id))
            rows = sorted(
                result.all(), key=lambda r: (r.fire_on, r.due_date, STAGE_ORDER[r.stage], r.kind)
            )
            try:
                sealed = await self._sealed(conn, case_id, [_notice(row) for row in rows])
            except SubjectErased:
                await self._withhold(conn, rows)
                return 0
            for row, data in zip(rows, sealed, strict=True):
                await self._fire(conn, row, data)
            return len(rows)

    async def _sealed(
        self, conn: AsyncConnection, case_id: str, notices: list[DeadlineNotice]
    ) -> list[dict[str, Any]]:
        """The notices with their personal fields sealed with the case's employee key."""
        case = await repo.load_case(conn, case_id)
        assert case is not None  # locked above
        if case.key_id is not None:
            return await self._sealer.with_key(case.key_id, notices)
        # The case's events came unsealed (written before sealing): the employee's live key.
        return await self._sealer.for_employee(case.tenant, case.employee_id, notices)

    async def _withhold(self, conn: AsyncConnection, rows: list[Any]) -> None:
        """Settle the timers without an event: the employee's key is destroyed."""
        for row in rows:
            settled = update(timers).where(*_same_timer(row))
            await conn.execute(settled.values(fired_at=self._clock.now(), event_id=None))
        log.info("deadline events withheld: the case's key is destroyed", case_id=rows[0].case_id)

    async def _fire(self, conn: AsyncConnection, row: Any, data: dict[str, Any]) -> None:
        result = await self._store.append(
            row.case_id,
            [NewEvent(f"deadline.{row.stage}", data)],
            tenant=row.tenant,
            expected_version=None,
            stream_type="deadline",
            command_id=f"{row.case_id}:{row.kind}:{row.stage}:{row.due_date.isoformat()}",
            connection=conn,
        )
        event_id = result.envelopes[0].id if result.envelopes else None
        await conn.execute(
            update(timers)
            .where(*_same_timer(row))
            .values(fired_at=self._clock.now(), event_id=event_id)
        )
        log.info("deadline event", case_id=row.case_id, kind=row.kind, stage=row.stage)


def _notice(row: Any) -> DeadlineNotice:
    return DEADLINE_EVENTS[f"deadline.{row.stage}"](
        case_id=row.case_id,
        kind=row.kind,
        due_date=row.due_date,
        responsible=row.responsible,
        legal_basis=row.legal_basis,
        manager_id=row.manager_id,
        employee_id=row.employee_id,
        org_unit=row.org_unit,
    )


def _due(today: date) -> Any:
    """Unfired timers due by ``today`` whose obligation is still open with that due date."""
    t, o = timers.c, obligations.c
    joined = timers.join(
        obligations,
        and_(o.case_id == t.case_id, o.kind == t.kind, o.due_date == t.due_date),
    )
    return (
        select(*timers.c, o.responsible, o.legal_basis, o.manager_id, o.employee_id, o.org_unit)
        .select_from(joined)
        .where(t.fired_at.is_(None), t.fire_on <= today, o.state == State.OPEN.value)
    )


async def _lock_a_due_case(conn: AsyncConnection, today: date) -> str | None:
    due_cases = _due(today).with_only_columns(timers.c.case_id)
    statement = (
        select(cases.c.case_id)
        .where(cases.c.case_id.in_(due_cases))
        .order_by(cases.c.case_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=cases)  # ignored on SQLite
    )
    return (await conn.execute(statement)).scalar()


def _same_timer(row: Any) -> list[Any]:
    t = timers.c
    return [
        t.case_id == row.case_id,
        t.kind == row.kind,
        t.stage == row.stage,
        t.due_date == row.due_date,
    ]
