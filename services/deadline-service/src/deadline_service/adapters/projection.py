"""The timeline projection: case events in, each case's obligations and timers out.

Every relevant event is stored with its case, then the case is folded again from all of them
and its timeline recomputed, so replaying the log from scratch gives the identical result.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.tables import case_events, cases, obligations, timers
from deadline_service.config import Policies
from deadline_service.domain.absence import lay_days
from deadline_service.domain.facts import RELEVANT_PAYLOADS, fold
from deadline_service.domain.maxdate import known_sick_pay_days
from deadline_service.domain.timeline import plan, reminder_stages
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.envelope import Envelope

RELEVANT_TYPES = frozenset(
    t.name for t in CONTRACTS if t.model in RELEVANT_PAYLOADS or t.model is ManagerReassigned
)


class TimelineProjection:
    """Each case's obligation timeline (frister) and its pending deadline timers."""

    name = "deadline-service.timeline"
    event_types: frozenset[str] | None = RELEVANT_TYPES

    def __init__(self, policies: Policies) -> None:
        self._policies = policies

    async def reset(self, tx: AsyncConnection) -> None:
        """Forget everything but the fired timers: they record what was already sent."""
        for table in (obligations, case_events, cases):
            await tx.execute(delete(table))
        await tx.execute(delete(timers).where(timers.c.fired_at.is_(None)))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        case_id = envelope.streamid
        if isinstance(event, CaseOpened):
            await repo.save_case(tx, _opened_row(envelope, event))
        if isinstance(event, ManagerReassigned):
            await repo.update_case(tx, case_id, manager_id=event.manager_id)
        await repo.store_event(tx, envelope)
        await repo.update_case(
            tx, case_id, version=envelope.streamversion, updated_at=envelope.time
        )
        await self.recompute(tx, case_id)

    async def recompute(self, tx: AsyncConnection, case_id: str, *, cascade: bool = True) -> None:
        """Fold the case again and store its timeline; a change to its sick-pay days is
        passed on to the employee's later cases (their max date counts them)."""
        case = await repo.load_case(tx, case_id)
        if case is None:
            return  # events before case.opened: kept, and used once it arrives
        facts = fold(case_id, await repo.load_events(tx, case_id))
        absence = lay_days(facts)
        start = absence.start if absence else None
        policy = self._policies.for_tenant(case.tenant)
        history = await repo.sick_pay_history(tx, case, start) if start else None
        found = plan(facts, policy, history=history)
        await repo.replace_obligations(tx, case, found)
        wanted = {
            (o.kind.value, stage.value, o.due_date): fire_on
            for o in found
            if o.due_date is not None
            for stage, fire_on in reminder_stages(o, policy.reminder_lead_days)
        }
        await repo.sync_timers(tx, case, wanted)
        days = known_sick_pay_days(absence) if absence else frozenset()
        await repo.update_case(
            tx,
            case_id,
            case_start=start,
            sick_pay_days=sorted(day.isoformat() for day in days),
            last_sick_day=absence.last_known_day if absence else None,
        )
        if cascade and days != case.sick_pay_days and start is not None:
            for later in await repo.employee_cases(tx, case):
                if later.case_start is not None and later.case_start > start:
                    await self.recompute(tx, later.case_id, cascade=False)


def _opened_row(envelope: Envelope, event: CaseOpened) -> dict[str, object]:
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
