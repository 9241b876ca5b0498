"""The case summary projection: the case's own events folded into ``case_summaries``.

The case service consumes its own topic ("case-events"): the event store stays the truth, the
summary is a read model that may lag it by a moment. The same ``handle`` serves live
consumption and ``naervaer rebuild case``, so both end in the same rows.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.summary import SummaryRows
from case_service.app.queries import summary_from_row
from case_service.app.summary_days import summary_facts
from case_service.app.summary_fold import fold, folded_event_types
from case_service.app.summary_state import SummaryState
from case_service.app.summary_view import meetings_held
from naervaer.contracts import CONTRACTS
from naervaer.envelope import Envelope

log = structlog.get_logger(__name__)

PROJECTION_NAME = "case-service.case-summaries"


class StreamTenantMismatch(ValueError):
    """An event names another tenant than the case it belongs to: never merge them."""


class CaseSummaryProjection:
    """Each case's summary (saksoversikt): parties, absence, plan, meetings, adjustments."""

    name = PROJECTION_NAME

    def __init__(self, rows: SummaryRows) -> None:
        self._rows = rows
        self.event_types: frozenset[str] | None = folded_event_types()

    async def reset(self, tx: AsyncConnection) -> None:
        await self._rows.clear(tx)

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        row = await self._rows.load(tx, envelope.streamid)
        current = summary_from_row(row) if row is not None else None
        if current is not None:
            if current.tenant != envelope.tenant:
                raise StreamTenantMismatch(f"event {envelope.id} names another tenant")
            if envelope.streamversion <= current.version:
                return  # folded already (e.g. a replay from another transport)
        before = current.state if current is not None else None
        state = fold(before, CONTRACTS.payload(envelope), envelope.streamversion)
        if state is None:
            log.warning("event of a case never opened", case_id=envelope.streamid)
            return
        values = summary_values(envelope, state)
        await self._rows.save(tx, state.case_id, values, exists=current is not None)


def summary_values(envelope: Envelope, state: SummaryState) -> dict[str, Any]:
    """The row of ``state`` (all columns but the key), stamped with ``envelope``."""
    facts = summary_facts(state)
    return {
        "tenant": envelope.tenant,
        "employee_id": state.employee_id,
        "manager_id": state.manager_id,
        "org_unit": state.org_unit,
        "status": state.status,
        "began_with": state.began_with,
        "case_start": facts.case_start,
        "closed_on": state.closed_on,
        "last_absence_day": facts.last_absence_day,
        "current_grade": facts.current_grade,
        "days_absent": facts.days_absent,
        "employer_period_end": facts.employer_period_end,
        "plan_version": state.plan_version,
        "meetings_held": len(meetings_held(state)),
        "absence": [segment.to_json() for segment in facts.segments],
        "state": state.model_dump(mode="json"),
        "version": envelope.streamversion,
        "updated_at": envelope.time,
    }
