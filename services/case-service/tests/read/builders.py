"""Public case events with concrete dates, as payloads, envelopes or store appends."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.app.summary_fold import fold
from case_service.app.summary_state import SummaryState
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import (
    BeganWith,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    GradingChanged,
    ManagerReassigned,
    ReturnedToWork,
    SelfCertificationRegistered,
    SickNoteCancelled,
    SickNoteCorrected,
    SickNoteExtended,
    SickNoteKind,
    SickNoteReceived,
)
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingHeld,
    DialogueMeetingScheduled,
    FollowUpPlan,
    FollowUpPlanCreated,
    FollowUpPlanRevised,
    FollowUpPlanShared,
    Participant,
)
from naervaer.contracts.measures import AdjustmentEvaluated, AdjustmentRecorded
from naervaer.db import DatabaseTarget, create_engine
from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore, NewEvent
from naervaer.privacy.keyvault import KeyVault

CASE = "case-1"
TENANT = "acme"
RECORDED = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def vault(engine: AsyncEngine) -> KeyVault:
    """A key vault as the runtime keeps one (install it before making keys).

    On SQLite it is a file of its own beside the case database, as in the embedded default: a
    consumer's transaction holds the case database's write lock while the projection shreds.
    """
    if engine.dialect.name == "sqlite":
        assert engine.url.database is not None
        path = Path(engine.url.database).with_name("keyvault.db")
        engine = create_engine(DatabaseTarget(f"sqlite+aiosqlite:///{path}", None))
    return KeyVault(engine, b"k" * 32, schema=None)


def d(text: str) -> date:
    return date.fromisoformat(text)


def opened(
    first_day: str,
    *,
    case_id: str = CASE,
    employee: str = "emp-1",
    manager: str = "mgr-1",
    unit: str = "warehouse",
    began_with: BeganWith = "sick_note",
) -> CaseOpened:
    return CaseOpened(
        case_id=case_id,
        employee_id=employee,
        manager_id=manager,
        org_unit=unit,
        first_absence_day=d(first_day),
        began_with=began_with,
    )


def note(
    note_id: str, start: str, end: str, grade: int = 100, *, case_id: str = CASE
) -> SickNoteReceived:
    return SickNoteReceived(
        case_id=case_id,
        sick_note_id=note_id,
        period_start=d(start),
        period_end=d(end),
        grade=grade,
        kind=_kind(grade),
    )


def pending_note(note_id: str, start: str, end: str, *, case_id: str = CASE) -> SickNoteReceived:
    return SickNoteReceived(
        case_id=case_id,
        sick_note_id=note_id,
        period_start=d(start),
        period_end=d(end),
        grade=100,
        kind="pending",
    )


def corrected(note_id: str, start: str, end: str, grade: int = 100) -> SickNoteCorrected:
    return SickNoteCorrected(
        case_id=CASE,
        sick_note_id=note_id,
        period_start=d(start),
        period_end=d(end),
        grade=grade,
        kind=_kind(grade),
    )


def extended(note_id: str, end: str) -> SickNoteExtended:
    return SickNoteExtended(case_id=CASE, sick_note_id=note_id, period_end=d(end))


def cancelled(note_id: str) -> SickNoteCancelled:
    return SickNoteCancelled(case_id=CASE, sick_note_id=note_id, reason="registered twice")


def graded(note_id: str, effective_from: str, grade: int) -> GradingChanged:
    return GradingChanged(
        case_id=CASE, sick_note_id=note_id, effective_from=d(effective_from), grade=grade
    )


def self_cert(start: str, end: str, *, case_id: str = CASE) -> SelfCertificationRegistered:
    days = (d(end) - d(start)).days + 1
    return SelfCertificationRegistered(
        case_id=case_id, period_start=d(start), period_end=d(end), days=days
    )


def reassigned(previous: str, new: str, on: str, *, case_id: str = CASE) -> ManagerReassigned:
    return ManagerReassigned(
        case_id=case_id, previous_manager_id=previous, manager_id=new, effective_on=d(on)
    )


def returned(on: str, working_percent: int = 100) -> ReturnedToWork:
    extent = "full" if working_percent == 100 else "partial"
    return ReturnedToWork(
        case_id=CASE, returned_on=d(on), extent=extent, working_percent=working_percent
    )


def closed(on: str, *, case_id: str = CASE) -> CaseClosed:
    return CaseClosed(case_id=case_id, closed_on=d(on), reason="returned_to_work")


def reopened(on: str) -> CaseReopened:
    return CaseReopened(case_id=CASE, absence_start=d(on), began_with="sick_note")


def plan_content(evaluation: str = "2026-03-01") -> FollowUpPlan:
    return FollowUpPlan(
        typical_workday="Picking and packing orders",
        tasks_that_can_still_be_done="Packing at a table",
        tasks_that_can_not_be_done="Lifting heavy boxes",
        previous_facilitation="None",
        planned_facilitation="No lifting above 10 kg",
        follow_up="Talk again in two weeks",
        evaluation_date=d(evaluation),
        send_plan_to_nav=False,
        send_plan_to_general_practitioner=True,
        contact_person_full_name="Kari Nordmann",
        contact_person_phone_number="+4790000000",
        employee_has_contributed_to_plan=True,
    )


def plan_created(on: str) -> FollowUpPlanCreated:
    return FollowUpPlanCreated(case_id=CASE, made_on=d(on), plan=plan_content())


def plan_revised(version: int, on: str) -> FollowUpPlanRevised:
    return FollowUpPlanRevised(
        case_id=CASE, plan_version=version, made_on=d(on), plan=plan_content()
    )


def plan_shared(version: int, recipient: str, on: str) -> FollowUpPlanShared:
    return FollowUpPlanShared.model_validate(
        {"case_id": CASE, "plan_version": version, "recipient": recipient, "shared_on": on}
    )


PARTIES = [Participant(party="employee"), Participant(party="manager")]


def meeting_scheduled(meeting_id: str, number: int, starts_at: str) -> DialogueMeetingScheduled:
    return DialogueMeetingScheduled.model_validate(
        {
            "case_id": CASE,
            "meeting_id": meeting_id,
            "meeting_number": number,
            "starts_at": starts_at,
            "participants": PARTIES,
            "employee_consented_to_doctor": False,
        }
    )


def meeting_held(meeting_id: str, number: int, on: str) -> DialogueMeetingHeld:
    return DialogueMeetingHeld.model_validate(
        {
            "case_id": CASE,
            "meeting_id": meeting_id,
            "meeting_number": number,
            "held_on": on,
            "participants": PARTIES,
            "minutes": "Agreed on lighter tasks",
        }
    )


def meeting_cancelled(meeting_id: str, number: int) -> DialogueMeetingCancelled:
    return DialogueMeetingCancelled.model_validate(
        {"case_id": CASE, "meeting_id": meeting_id, "meeting_number": number, "reason": "ill"}
    )


def adjustment(adjustment_id: str, starts: str, ends: str) -> AdjustmentRecorded:
    return AdjustmentRecorded(
        case_id=CASE,
        adjustment_id=adjustment_id,
        area="tasks",
        description="No heavy lifting",
        starts_on=d(starts),
        ends_on=d(ends),
    )


def evaluated(adjustment_id: str, on: str) -> AdjustmentEvaluated:
    return AdjustmentEvaluated(
        case_id=CASE,
        adjustment_id=adjustment_id,
        evaluated_on=d(on),
        outcome="worked",
        notes="Back on full tasks",
    )


def fold_all(events: Sequence[BaseModel]) -> SummaryState:
    """The summary state after ``events`` (stream versions 1, 2, …)."""
    state: SummaryState | None = None
    for seq, event in enumerate(events, start=1):
        state = fold(state, event, seq)
    assert state is not None
    return state


def envelopes(
    events: Sequence[BaseModel], *, tenant: str = TENANT, first_version: int = 1
) -> list[Envelope]:
    """``events`` of one case as stored envelopes, one minute apart."""
    result = []
    for index, event in enumerate(events):
        event_type = CONTRACTS.type_of(event)
        stream = _case_id(event)
        result.append(
            Envelope(
                id=uuid.uuid4(),
                source="/case-service",
                type=event_type.name,
                subject=stream,
                time=RECORDED + timedelta(minutes=index),
                dataschema=event_type.schema_path,
                data=event.model_dump(mode="json"),
                tenant=tenant,
                streamid=stream,
                streamversion=first_version + index,
            )
        )
    return result


async def append(store: EventStore, events: Sequence[BaseModel], *, tenant: str = TENANT) -> int:
    """Append ``events`` (all of one case) to the store; returns the stream version."""
    stream = _case_id(events[0])
    new = [NewEvent(type=CONTRACTS.type_of(e).name, data=e) for e in events]
    result = await store.append(stream, new, tenant=tenant, expected_version=None)
    return result.version


def _kind(grade: int) -> SickNoteKind:
    return "ordinary" if grade == 100 else "graded"


def _case_id(event: BaseModel) -> str:
    return str(event.model_dump()["case_id"])
