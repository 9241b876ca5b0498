"""Hypothesis strategies for case histories: sick notes (sykmeldinger) with random periods,
grades and gaps, corrected, extended, regraded and cancelled, self-certifications (egenmeldinger)
and returns to work, as the case service's contract events in stream order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from hypothesis import strategies as st

from deadline_service.domain.facts import RecordedEvent
from naervaer.contracts import case as c

CASE_ID = "case-prop"
GRADES = st.sampled_from([20, 40, 50, 60, 80, 100]) | st.integers(1, 100)


@dataclass
class History:
    """The events of one case and the notes it has received (their current last day)."""

    start: date
    events: list[RecordedEvent] = field(default_factory=list)
    notes: dict[str, date] = field(default_factory=dict)

    def add(self, payload: object) -> None:
        self.events.append(RecordedEvent(f"ev-{len(self.events) + 1}", payload))

    def day(self, offset: int) -> date:
        return self.start + timedelta(days=offset)

    def describe(self) -> str:
        """The history, one event a line (hypothesis shows it for a falsifying example)."""
        return "\n".join(f"{e.event_id}: {e.payload!r}" for e in self.events)


@st.composite
def _note(draw: st.DrawFn, history: History) -> None:
    begin = history.day(draw(st.integers(0, 240)))
    end = begin + timedelta(days=draw(st.integers(0, 60)))
    grade = draw(GRADES)
    note_id = f"note-{len(history.notes) + 1}"
    history.notes[note_id] = end
    history.add(
        c.SickNoteReceived(
            case_id=CASE_ID,
            sick_note_id=note_id,
            period_start=begin,
            period_end=end,
            grade=grade,
            kind="ordinary" if grade == 100 else "graded",
        )
    )


@st.composite
def _change(draw: st.DrawFn, history: History) -> None:
    """Change a received note: extend, correct, regrade or cancel it."""
    if not history.notes:
        return
    note_id = draw(st.sampled_from(sorted(history.notes)))
    end = history.notes[note_id]
    action = draw(st.sampled_from(["extend", "correct", "grading", "cancel"]))
    if action == "extend":
        extend_note(history, note_id, draw(st.integers(1, 45)))
    elif action == "correct":
        begin = history.day(draw(st.integers(0, 240)))
        new_end = begin + timedelta(days=draw(st.integers(0, 60)))
        grade = draw(GRADES)
        history.notes[note_id] = new_end
        kind = "ordinary" if grade == 100 else "graded"
        history.add(
            c.SickNoteCorrected(
                case_id=CASE_ID,
                sick_note_id=note_id,
                period_start=begin,
                period_end=new_end,
                grade=grade,
                kind=kind,
            )
        )
    elif action == "grading":
        since = end - timedelta(days=draw(st.integers(0, 20)))
        history.add(
            c.GradingChanged(
                case_id=CASE_ID, sick_note_id=note_id, effective_from=since, grade=draw(GRADES)
            )
        )
    else:
        del history.notes[note_id]
        history.add(c.SickNoteCancelled(case_id=CASE_ID, sick_note_id=note_id, reason="wrong"))


def extend_note(history: History, note_id: str, days: int) -> None:
    """Extend ``note_id`` by ``days`` past its current last day (forlengelse)."""
    history.notes[note_id] += timedelta(days=days)
    history.add(
        c.SickNoteExtended(case_id=CASE_ID, sick_note_id=note_id, period_end=history.notes[note_id])
    )


@st.composite
def _self_certification(draw: st.DrawFn, history: History) -> None:
    begin = history.day(draw(st.integers(0, 240)))
    days = draw(st.integers(1, 3))
    history.add(
        c.SelfCertificationRegistered(
            case_id=CASE_ID,
            period_start=begin,
            period_end=begin + timedelta(days=days - 1),
            days=days,
        )
    )


@st.composite
def _return(draw: st.DrawFn, history: History) -> None:
    percent = draw(st.sampled_from([100, 100, 20, 50, 80]))
    history.add(
        c.ReturnedToWork(
            case_id=CASE_ID,
            returned_on=history.day(draw(st.integers(1, 300))),
            extent="full" if percent == 100 else "partial",
            working_percent=percent,
        )
    )


@st.composite
def histories(draw: st.DrawFn, *, returns: bool = True, max_steps: int = 12) -> History:
    """A case opened on S0 and up to ``max_steps`` sick-leave events after it."""
    start = draw(st.dates(date(2023, 1, 1), date(2028, 12, 31)))
    history = History(start)
    history.add(
        c.CaseOpened(
            case_id=CASE_ID,
            employee_id="emp-1",
            manager_id="mgr-1",
            org_unit="warehouse",
            first_absence_day=start,
            began_with="sick_note",
        )
    )
    draw(_note(history))
    steps = [_note, _note, _change, _change, _self_certification]
    if returns:
        steps.append(_return)
    for _ in range(draw(st.integers(0, max_steps))):
        draw(draw(st.sampled_from(steps))(history))
    return history


IRRELEVANT = st.sampled_from(
    [
        c.ManagerReassigned(
            case_id=CASE_ID,
            previous_manager_id="mgr-1",
            manager_id="mgr-2",
            effective_on=date(2026, 1, 1),
        ),
        c.SickNoteExtended(
            case_id=CASE_ID, sick_note_id="no-such-note", period_end=date(2030, 1, 1)
        ),
        c.SickNoteCancelled(case_id=CASE_ID, sick_note_id="no-such-note", reason="x"),
        c.GradingChanged(
            case_id=CASE_ID, sick_note_id="no-such-note", effective_from=date(2026, 1, 1), grade=5
        ),
        {"type": "access.recorded", "case_id": CASE_ID},  # not a case contract at all
        "an unknown payload",
    ]
)
"""Events a timeline must not depend on: other facts, or changes to notes that do not exist."""
