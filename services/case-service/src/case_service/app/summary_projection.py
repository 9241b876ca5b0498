"""The case summary projection: the case's own events folded into ``case_summaries``.

The case service consumes its own topic ("case-events"): the event store stays the truth, the
summary is a read model that may lag it by a moment. The same ``handle`` serves live
consumption and ``naervaer rebuild case``, so both end in the same rows.

Erasure (sletting): on ``employee.personal_data_erased`` the summaries of its cases are
deleted and the key is destroyed here too (idempotent: the erasure command destroys it right
after appending the event; should it crash in between, this finishes the job). An erased case
never gets a row again: its opening event reads ``[erased]`` once the key is gone, and such an
opening is not summarised; during a rebuild the erased event comes later and deletes again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from case_service.adapters.summary import SummaryRows
from case_service.app.summary_days import segments_json, summary_facts
from case_service.app.summary_fold import fold, folded_event_types
from case_service.app.summary_state import SummaryState
from case_service.app.summary_view import meetings_held
from naervaer.bulk import JsonText
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.privacy.keyring import KEYRING
from naervaer.privacy.sealing import ERASED

log = structlog.get_logger(__name__)

PROJECTION_NAME = "case-service.case-summaries"
ERASED_TYPE = "employee.personal_data_erased"


class KeyShredder(Protocol):
    async def shred(self, key_id: str) -> None:
        """Destroy the key (idempotent)."""
        ...


class StreamTenantMismatch(ValueError):
    """An event names another tenant than the case it belongs to: never merge them."""


class CaseSummaryProjection:
    """Each case's summary (saksoversikt): parties, absence, plan, meetings, adjustments."""

    name = PROJECTION_NAME

    def __init__(self, rows: SummaryRows, keys: KeyShredder) -> None:
        self._rows = rows
        self._keys = keys
        self.event_types: frozenset[str] | None = folded_event_types() | {ERASED_TYPE}

    async def reset(self, tx: AsyncConnection) -> None:
        await self._rows.clear(tx)

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        payload = CONTRACTS.payload(envelope)
        if isinstance(payload, PersonalDataErased):
            await self._erase(tx, envelope.tenant, payload)
            return
        row = await self._rows.load(tx, envelope.streamid)
        current = _Folded.of(row) if row is not None else None
        if current is not None:
            if current.tenant != envelope.tenant:
                raise StreamTenantMismatch(f"event {envelope.id} names another tenant")
            if envelope.streamversion <= current.version:
                return  # folded already (e.g. a replay from another transport)
        if current is None and _erased_opening(payload):
            return  # the case was erased: nothing personal may come back
        # The state was validated from its row for this event alone: fold it where it lies.
        before = current.state if current is not None else None
        state = fold(before, payload, envelope.streamversion, in_place=True)
        if state is None:
            log.warning("event of a case never opened", case_id=envelope.streamid)
            return
        values = summary_values(envelope, state)
        await self._rows.save(tx, state.case_id, values, exists=current is not None)

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        """``handle`` for each of ``envelopes`` in order, leaving exactly the same rows.

        One read of the batch's cases, each case's events folded in memory, one write per
        changed case (the consumer's and the rebuild's hot path). An erasure acts where it
        stands: what came before it is written first, and what follows is decoded after its
        key is forgotten, as it would be one ``handle`` after another.
        """
        run: list[tuple[Envelope, BaseModel]] = []
        for envelope in envelopes:
            payload = CONTRACTS.payload(envelope)
            if isinstance(payload, PersonalDataErased):
                await self._fold_run(tx, run)
                run = []
                await self._erase(tx, envelope.tenant, payload)
            else:
                run.append((envelope, payload))
        await self._fold_run(tx, run)

    async def _fold_run(self, tx: AsyncConnection, run: list[tuple[Envelope, BaseModel]]) -> None:
        if not run:
            return
        rows = await self._rows.load_many(tx, {envelope.streamid for envelope, _ in run})
        stored = {case_id: _Folded.of(row) for case_id, row in rows.items()}
        cases = dict(stored)
        for envelope, payload in run:
            _fold_into(cases, envelope, payload)
        await self._rows.save_many(
            tx,
            [
                _row(case.state, case.last, exists=case_id in stored)
                for case_id, case in cases.items()
                if case.last is not None
            ],
        )

    async def _erase(self, tx: AsyncConnection, tenant: str, erased: PersonalDataErased) -> None:
        deleted = await self._rows.delete(tx, tenant, erased.case_ids)
        await self._keys.shred(erased.key_id)
        KEYRING.forget(erased.key_id)
        log.info("case summaries erased", cases=len(erased.case_ids), deleted=deleted)


@dataclass(frozen=True)
class _Folded:
    """A case's summary as far as a batch has folded it: what its row would hold by now."""

    tenant: str
    version: int
    state: SummaryState
    last: Envelope | None = None  # the batch's last event folded in; None: the row is as read

    @classmethod
    def of(cls, row: Any) -> _Folded:
        state = SummaryState.model_validate_json(row["state"])  # its JSON text (SummaryRows)
        return cls(row["tenant"], row["version"], state)


def _row(state: SummaryState, last: Envelope, *, exists: bool) -> tuple[str, dict[str, Any], bool]:
    """What ``save_many`` writes of a case the batch changed: an existing row only what may
    have changed since it was inserted."""
    values = summary_changes if exists else summary_values
    return state.case_id, values(last, state), exists


def _fold_into(cases: dict[str, _Folded], envelope: Envelope, payload: BaseModel) -> None:
    """One event on top of ``cases``, by exactly the rules of ``handle``."""
    current = cases.get(envelope.streamid)
    if current is not None:
        if current.tenant != envelope.tenant:
            raise StreamTenantMismatch(f"event {envelope.id} names another tenant")
        if envelope.streamversion <= current.version:
            return
    if current is None and _erased_opening(payload):
        return
    # The batch owns every state in ``cases`` (validated from its row, or folded here).
    before = current.state if current is not None else None
    state = fold(before, payload, envelope.streamversion, in_place=True)
    if state is None:
        log.warning("event of a case never opened", case_id=envelope.streamid)
        return
    cases[envelope.streamid] = _Folded(envelope.tenant, envelope.streamversion, state, envelope)


def _erased_opening(event: object) -> bool:
    return isinstance(event, CaseOpened) and event.employee_id == ERASED


def summary_values(envelope: Envelope, state: SummaryState) -> dict[str, Any]:
    """The row of ``state`` (all columns but the key), stamped with ``envelope``."""
    return {
        "tenant": envelope.tenant,
        "employee_id": state.employee_id,
        "org_unit": state.org_unit,
        "began_with": state.began_with,
        **summary_changes(envelope, state),
    }


def summary_changes(envelope: Envelope, state: SummaryState) -> dict[str, Any]:
    """``summary_values`` but the columns fixed when the case was opened (tenant, employee,
    unit, how it began): what updating an existing row must set, the fewer arrays the better.
    An opening is folded only into a case without a row, so no later event changes them."""
    facts = summary_facts(state)
    return {
        "manager_id": state.manager_id,
        "status": state.status,
        "case_start": facts.case_start,
        "closed_on": state.closed_on,
        "last_absence_day": facts.last_absence_day,
        "current_grade": facts.current_grade,
        "days_absent": facts.days_absent,
        "employer_period_end": facts.employer_period_end,
        "plan_version": state.plan_version,
        "meetings_held": len(meetings_held(state)),
        "absence": JsonText(segments_json(facts.segments)),
        "state": JsonText(state.model_dump_json()),
        "version": envelope.streamversion,
        "updated_at": envelope.time,
    }
