"""The facts of one case that the obligation rules read, folded from its events in order.

The case service's integration events (``naervaer.contracts``) are the input; the fold keeps
only what a rule needs, each fact with the id of the event that recorded it (``fulfilled_by``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from deadline_service.domain.calendar import DAY
from naervaer.contracts import case as c
from naervaer.contracts import followup as f
from naervaer.contracts import measures as m

LayerKind = Literal["sick_note", "pending", "self_certification", "reported"]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One event of the case: its id (kept as ``fulfilled_by``) and its contract payload."""

    event_id: str
    payload: object


@dataclass(slots=True)
class Layer:
    """A period laid over the calendar: a sick note, a self-certification or a reported day.

    ``grades`` lists (from-date, grade) steps: the note's grade, then grading changes.
    ``seq`` orders layers against returns to work: a layer changed later is laid later.
    ``extended`` holds what each extension (forlengelse) added, as (first new day, seq): only
    the new days are laid when the extension came, so an extension never brings back days a
    return to work took away before it (found by tests/hostile's property tests: it moved the
    employer period's end earlier).
    """

    start: date
    end: date
    grades: list[tuple[date, int]]
    kind: LayerKind
    source: str
    seq: int
    extended: list[tuple[date, int]] = field(default_factory=list)

    def copy(self) -> Layer:
        """An equal layer that changing leaves this one as it is."""
        return Layer(
            self.start,
            self.end,
            list(self.grades),
            self.kind,
            self.source,
            self.seq,
            list(self.extended),
        )

    def parts(self) -> list[tuple[date, date, int]]:
        """The layer's days as (first, last, seq) runs, in the order they were added."""
        if not self.extended:  # most notes: one part
            return [(self.start, self.end, self.seq)]
        starts = [(self.start, self.seq), *self.extended]
        lasts = [first - DAY for first, _ in starts[1:]] + [self.end]
        return [(first, last, seq) for (first, seq), last in zip(starts, lasts, strict=True)]


@dataclass(frozen=True, slots=True)
class Return:
    """A return to work (friskmelding) on ``day``: full, or partial at ``working_percent``."""

    day: date
    working_percent: int
    seq: int
    source: str


@dataclass(frozen=True, slots=True)
class Fact:
    """Something that happened on ``day`` (a plan, a meeting, an assessment …)."""

    day: date
    source: str
    detail: Any = None


@dataclass
class CaseFacts:
    """Everything the rules read about one case."""

    case_id: str
    opened_on: date | None = None
    layers: dict[str, Layer] = field(default_factory=dict)
    returns: list[Return] = field(default_factory=list)
    closed_on: date | None = None
    plans: dict[int, Fact] = field(default_factory=dict)  # version → made
    shares: list[Fact] = field(default_factory=list)  # detail: (version, recipient)
    meeting_requests: dict[int, list[Fact]] = field(default_factory=dict)  # detail: requested_by
    scheduled: dict[str, Fact] = field(default_factory=dict)  # id → detail: number; not cancelled
    meetings_held: dict[int, list[Fact]] = field(default_factory=dict)
    meeting_2_exception: Fact | None = None
    assessments: list[Fact] = field(default_factory=list)  # detail: outcome
    aap_applications: list[Fact] = field(default_factory=list)
    review_decisions: list[Fact] = field(default_factory=list)
    waivers: dict[str, Fact] = field(default_factory=dict)  # kind → detail: reason
    _seq: int = 0

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def copy(self) -> CaseFacts:
        """Facts equal to these that folding more events into changes nothing of these: the
        containers and the layers (which ``record`` changes in place) are new, the rest
        (immutable facts and returns) shared."""
        return CaseFacts(
            self.case_id,
            self.opened_on,
            {key: layer.copy() for key, layer in self.layers.items()},
            list(self.returns),
            self.closed_on,
            dict(self.plans),
            list(self.shares),
            {number: list(facts) for number, facts in self.meeting_requests.items()},
            dict(self.scheduled),
            {number: list(facts) for number, facts in self.meetings_held.items()},
            self.meeting_2_exception,
            list(self.assessments),
            list(self.aap_applications),
            list(self.review_decisions),
            dict(self.waivers),
            self._seq,
        )


def fold(case_id: str, events: Iterable[RecordedEvent]) -> CaseFacts:
    """The facts after ``events`` (in stream order); unknown payload types are ignored."""
    facts = CaseFacts(case_id)
    for event in events:
        record(facts, event)
    return facts


def record(facts: CaseFacts, event: RecordedEvent) -> None:
    """Fold one more event (the case's next in stream order) into ``facts``: ``fold`` of the
    events so far and this one gives the same facts. Reading facts never changes them."""
    apply = _APPLY.get(type(event.payload))
    if apply is not None:
        apply(facts, event.payload, event.event_id)


def _opened(facts: CaseFacts, e: c.CaseOpened, source: str) -> None:
    facts.opened_on = e.first_absence_day
    _reported_day(facts, e.first_absence_day, source)


def _reported_day(facts: CaseFacts, day: date, source: str) -> None:
    """The day the absence was reported counts as absent until notes say more."""
    facts.layers[f"reported:{source}"] = Layer(
        day, day, [(day, 100)], "reported", source, facts.next_seq()
    )


def _self_certified(facts: CaseFacts, e: c.SelfCertificationRegistered, source: str) -> None:
    grades = [(e.period_start, 100)]
    layer = Layer(e.period_start, e.period_end, grades, "self_certification", source, 0)
    layer.seq = facts.next_seq()
    facts.layers[f"egenmelding:{source}"] = layer


def _note_kind(kind: str) -> LayerKind:
    return "pending" if kind == "pending" else "sick_note"


def _note_received(facts: CaseFacts, e: c.SickNoteReceived, source: str) -> None:
    grades = [(e.period_start, e.grade)]
    kind = _note_kind(e.kind)
    seq = facts.next_seq()
    facts.layers[e.sick_note_id] = Layer(e.period_start, e.period_end, grades, kind, source, seq)


def _note_corrected(facts: CaseFacts, e: c.SickNoteCorrected, source: str) -> None:
    _note_received(facts, c.SickNoteReceived(**e.model_dump()), source)


def _note_extended(facts: CaseFacts, e: c.SickNoteExtended, source: str) -> None:
    layer = facts.layers.get(e.sick_note_id)
    if layer is not None and e.period_end > layer.end:
        layer.extended.append((layer.end + DAY, facts.next_seq()))
        layer.end, layer.source = e.period_end, source


def _note_cancelled(facts: CaseFacts, e: c.SickNoteCancelled, _source: str) -> None:
    facts.layers.pop(e.sick_note_id, None)


def _grading_changed(facts: CaseFacts, e: c.GradingChanged, source: str) -> None:
    layer = facts.layers.get(e.sick_note_id)
    if layer is not None:
        layer.grades = sorted([*layer.grades, (e.effective_from, e.grade)])
        # The whole note is laid anew with its new grades, extensions included.
        layer.source, layer.seq, layer.extended = source, facts.next_seq(), []


def _returned(facts: CaseFacts, e: c.ReturnedToWork, source: str) -> None:
    percent = 100 if e.extent == "full" else e.working_percent
    facts.returns.append(Return(e.returned_on, percent, facts.next_seq(), source))


def _closed(facts: CaseFacts, e: c.CaseClosed, _source: str) -> None:
    facts.closed_on = e.closed_on


def _reopened(facts: CaseFacts, e: c.CaseReopened, source: str) -> None:
    facts.closed_on = None
    _reported_day(facts, e.absence_start, source)


def _waived(facts: CaseFacts, e: c.ObligationWaived, source: str) -> None:
    facts.waivers[e.obligation] = Fact(e.waived_on, source, e.reason)


def _plan_made(
    facts: CaseFacts, e: f.FollowUpPlanCreated | f.FollowUpPlanRevised, src: str
) -> None:
    facts.plans[e.plan_version] = Fact(e.made_on, src)


def _plan_shared(facts: CaseFacts, e: f.FollowUpPlanShared, source: str) -> None:
    facts.shares.append(Fact(e.shared_on, source, (e.plan_version, e.recipient)))


def _meeting_requested(facts: CaseFacts, e: f.DialogueMeetingRequested, source: str) -> None:
    fact = Fact(e.requested_on, source, e.requested_by)
    facts.meeting_requests.setdefault(e.meeting_number, []).append(fact)


def _meeting_scheduled(facts: CaseFacts, e: f.DialogueMeetingScheduled, source: str) -> None:
    facts.scheduled[e.meeting_id] = Fact(e.starts_at.date(), source, e.meeting_number)


def _meeting_cancelled(facts: CaseFacts, e: f.DialogueMeetingCancelled, _source: str) -> None:
    facts.scheduled.pop(e.meeting_id, None)


def _meeting_held(facts: CaseFacts, e: f.DialogueMeetingHeld, source: str) -> None:
    # A held meeting stays in ``scheduled``: the revised plan was due a week before the day it
    # was called for, and forgetting that day would move the due date (and re-arm its timers).
    facts.meetings_held.setdefault(e.meeting_number, []).append(Fact(e.held_on, source))


def _exception(facts: CaseFacts, e: f.MeetingExceptionRecorded, source: str) -> None:
    facts.meeting_2_exception = Fact(e.recorded_on, source, e.reason)


def _assessed(facts: CaseFacts, e: m.ActivityRequirementAssessed, source: str) -> None:
    facts.assessments.append(Fact(e.assessed_on, source, e.outcome))


def _aap(facts: CaseFacts, e: m.AapApplicationRecorded, source: str) -> None:
    facts.aap_applications.append(Fact(e.applied_on, source))


def _review(facts: CaseFacts, e: m.EmploymentReviewDecided, source: str) -> None:
    facts.review_decisions.append(Fact(e.decided_on, source, e.decision))


_APPLY: dict[type, Callable[[CaseFacts, Any, str], None]] = {
    c.CaseOpened: _opened,
    c.SelfCertificationRegistered: _self_certified,
    c.SickNoteReceived: _note_received,
    c.SickNoteCorrected: _note_corrected,
    c.SickNoteExtended: _note_extended,
    c.SickNoteCancelled: _note_cancelled,
    c.GradingChanged: _grading_changed,
    c.ReturnedToWork: _returned,
    c.CaseClosed: _closed,
    c.CaseReopened: _reopened,
    c.ObligationWaived: _waived,
    f.FollowUpPlanCreated: _plan_made,
    f.FollowUpPlanRevised: _plan_made,
    f.FollowUpPlanShared: _plan_shared,
    f.DialogueMeetingRequested: _meeting_requested,
    f.DialogueMeetingScheduled: _meeting_scheduled,
    f.DialogueMeetingCancelled: _meeting_cancelled,
    f.DialogueMeetingHeld: _meeting_held,
    f.MeetingExceptionRecorded: _exception,
    m.ActivityRequirementAssessed: _assessed,
    m.AapApplicationRecorded: _aap,
    m.EmploymentReviewDecided: _review,
}
RELEVANT_PAYLOADS: frozenset[type] = frozenset(_APPLY)
"""The payload types that can change a timeline."""
