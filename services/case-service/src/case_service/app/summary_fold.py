"""Folds the public case events into ``SummaryState``: pure, no I/O, no clock.

``fold(state, event, seq)`` returns a new state and never changes the one it is given. Events the
summary does not care about return the state unchanged; events of a case that was never opened
return ``None`` (the projection then has nothing to update).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel

from case_service.app.summary_state import (
    Adjustment,
    Cut,
    Grading,
    Meeting,
    NotePart,
    PartialReturn,
    SelfCertification,
    SickNote,
    SummaryState,
)
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import (
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
    SickNoteReceived,
)
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingHeld,
    DialogueMeetingScheduled,
    FollowUpPlanCreated,
    FollowUpPlanRevised,
    FollowUpPlanShared,
)
from naervaer.contracts.measures import AdjustmentEvaluated, AdjustmentRecorded

Step = Callable[[SummaryState, Any, int], None]


def fold(
    state: SummaryState | None, event: BaseModel, seq: int, *, in_place: bool = False
) -> SummaryState | None:
    """The summary after ``event`` (stream version ``seq``) on top of ``state``.

    ``state`` is left as it was unless ``in_place``: then it is changed and returned, for a
    caller that owns it (a batch folding a case's events one after another; a deep copy per
    event was a fifth of the summary consumer's time)."""
    if isinstance(event, CaseOpened):
        return state if state is not None else _opened(event)
    step = _STEPS.get(type(event))
    if state is None or step is None:
        return state
    after = state if in_place else state.model_copy(deep=True)
    step(after, event, seq)
    return after


def _opened(event: CaseOpened) -> SummaryState:
    return SummaryState(
        case_id=event.case_id,
        employee_id=event.employee_id,
        manager_id=event.manager_id,
        org_unit=event.org_unit,
        began_with=event.began_with,
        first_absence_day=event.first_absence_day,
    )


# --- absence: sick notes (sykmeldinger) and self-certifications (egenmeldinger) --------------


def _self_certified(s: SummaryState, e: SelfCertificationRegistered, seq: int) -> None:
    s.self_certifications.append(SelfCertification(start=e.period_start, end=e.period_end, seq=seq))


def _note_received(s: SummaryState, e: SickNoteReceived | SickNoteCorrected, seq: int) -> None:
    # A correction replaces the note as a whole, earlier grading changes included: the
    # corrected note states its own grade.
    s.notes[e.sick_note_id] = SickNote(
        note_id=e.sick_note_id,
        kind=e.kind,
        grade=e.grade,
        parts=[NotePart(start=e.period_start, end=e.period_end, seq=seq)],
    )


def _note_extended(s: SummaryState, e: SickNoteExtended, seq: int) -> None:
    note = s.notes.get(e.sick_note_id)
    if note is None:
        return
    if e.period_end > note.end:
        # The added days carry the extension's seq: an extension after a return to work
        # is a new absence, which the earlier return must not cut.
        note.parts.append(NotePart(start=note.end + timedelta(days=1), end=e.period_end, seq=seq))
        return
    # An "extension" to an earlier end shortens the note (to nothing: it covers no day).
    note.parts = [
        part.model_copy(update={"end": min(part.end, e.period_end)})
        for part in note.parts
        if part.start <= e.period_end
    ]
    if not note.parts:
        del s.notes[e.sick_note_id]


def _note_cancelled(s: SummaryState, e: SickNoteCancelled, _seq: int) -> None:
    s.notes.pop(e.sick_note_id, None)


def _grading_changed(s: SummaryState, e: GradingChanged, seq: int) -> None:
    note = s.notes.get(e.sick_note_id)
    if note is not None:
        note.gradings.append(Grading(effective_from=e.effective_from, grade=e.grade, seq=seq))


def _returned(s: SummaryState, e: ReturnedToWork, seq: int) -> None:
    if e.extent == "full" or e.working_percent >= 100:
        s.cuts.append(Cut(from_day=e.returned_on, seq=seq))
        return
    grade = 100 - e.working_percent
    s.partial_returns.append(PartialReturn(from_day=e.returned_on, grade=grade, seq=seq))


# --- lifecycle and parties --------------------------------------------------------------


def _manager_reassigned(s: SummaryState, e: ManagerReassigned, _seq: int) -> None:
    s.manager_id = e.manager_id


def _closed(s: SummaryState, e: CaseClosed, seq: int) -> None:
    s.status, s.closed_on = "closed", e.closed_on
    s.cuts.append(Cut(from_day=e.closed_on + timedelta(days=1), seq=seq))


def _reopened(s: SummaryState, _e: CaseReopened, _seq: int) -> None:
    s.status, s.closed_on = "open", None


# --- follow-up: plan (oppfølgingsplan) and dialogue meetings (dialogmøter) --------------


def _plan_made(s: SummaryState, e: FollowUpPlanCreated | FollowUpPlanRevised, _seq: int) -> None:
    if e.plan_version >= s.plan_version:
        s.plan_version, s.plan_made_on, s.plan_shared_with = e.plan_version, e.made_on, []


def _plan_shared(s: SummaryState, e: FollowUpPlanShared, _seq: int) -> None:
    if e.plan_version == s.plan_version and e.recipient not in s.plan_shared_with:
        s.plan_shared_with.append(e.recipient)


def _meeting_scheduled(s: SummaryState, e: DialogueMeetingScheduled, _seq: int) -> None:
    s.meetings[e.meeting_id] = Meeting(
        meeting_id=e.meeting_id, number=e.meeting_number, starts_at=e.starts_at
    )


def _meeting_held(s: SummaryState, e: DialogueMeetingHeld, _seq: int) -> None:
    meeting = s.meetings.get(e.meeting_id) or Meeting(
        meeting_id=e.meeting_id, number=e.meeting_number
    )
    s.meetings[e.meeting_id] = meeting.model_copy(update={"held_on": e.held_on, "cancelled": False})


def _meeting_cancelled(s: SummaryState, e: DialogueMeetingCancelled, _seq: int) -> None:
    meeting = s.meetings.get(e.meeting_id)
    if meeting is not None and meeting.held_on is None:
        s.meetings[e.meeting_id] = meeting.model_copy(update={"cancelled": True})


# --- adjustments (tilrettelegging) ------------------------------------------------------


def _adjustment_recorded(s: SummaryState, e: AdjustmentRecorded, _seq: int) -> None:
    s.adjustments[e.adjustment_id] = Adjustment(
        adjustment_id=e.adjustment_id, area=e.area, starts_on=e.starts_on, ends_on=e.ends_on
    )


def _adjustment_evaluated(s: SummaryState, e: AdjustmentEvaluated, _seq: int) -> None:
    adjustment = s.adjustments.get(e.adjustment_id)
    if adjustment is not None:
        update = {"evaluated_on": e.evaluated_on, "outcome": e.outcome}
        s.adjustments[e.adjustment_id] = adjustment.model_copy(update=update)


_STEPS: dict[type[BaseModel], Step] = {
    SelfCertificationRegistered: _self_certified,
    SickNoteReceived: _note_received,
    SickNoteCorrected: _note_received,
    SickNoteExtended: _note_extended,
    SickNoteCancelled: _note_cancelled,
    GradingChanged: _grading_changed,
    ReturnedToWork: _returned,
    ManagerReassigned: _manager_reassigned,
    CaseClosed: _closed,
    CaseReopened: _reopened,
    FollowUpPlanCreated: _plan_made,
    FollowUpPlanRevised: _plan_made,
    FollowUpPlanShared: _plan_shared,
    DialogueMeetingScheduled: _meeting_scheduled,
    DialogueMeetingHeld: _meeting_held,
    DialogueMeetingCancelled: _meeting_cancelled,
    AdjustmentRecorded: _adjustment_recorded,
    AdjustmentEvaluated: _adjustment_evaluated,
}


def folded_event_types() -> frozenset[str]:
    """The contract type names the summary folds (the projection's ``event_types``)."""
    models = {CaseOpened, *_STEPS}
    return frozenset(event_type.name for event_type in CONTRACTS if event_type.model in models)
