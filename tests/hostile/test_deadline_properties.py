"""Properties of the deadline rules engine over arbitrary sick-leave histories (RULES.md).

For any sequence of sick notes with random periods, grades and gaps, corrected, extended,
regraded or cancelled, with self-certifications and returns to work in between:

- every obligation kind appears once, with a state and a status of the allowed sets;
- no due date lies before S, and the dates the rules fix relative to S are exactly there, so the
  timeline runs in the order RULES.md gives;
- a status moves only forward as the days pass;
- extending the last sick note never moves a due date earlier;
- the fold is deterministic and blind to events that carry nothing for it.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from deadline_service.domain.absence import lay_days
from deadline_service.domain.calendar import add_months, is_weekday
from deadline_service.domain.facts import RecordedEvent, fold
from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import State, Status
from deadline_service.domain.timeline import Obligation, plan, status_on, timeline
from naervaer.contracts import case as c

from .histories import CASE_ID, IRRELEVANT, History, extend_note, histories

PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Fixed relative to S by RULES.md (S + 7·N - 1 for "within N weeks").
OFFSETS = {
    K.FOLLOW_UP_PLAN: 27,
    K.ACTIVITY_REQUIREMENT: 55,
    K.MEETING_NEED_QUERY: 111,
    K.DIALOGUE_MEETING_2: 181,
    K.WEEK_39_NOTICE: 272,
    K.EMPLOYMENT_REVIEW: 364,
}
# The order RULES.md gives them, for the ones dated in this history.
ORDER = (
    K.FOLLOW_UP_PLAN,
    K.DIALOGUE_MEETING_1,
    K.ACTIVITY_REQUIREMENT,
    K.MEETING_NEED_QUERY,
    K.REVISED_PLAN_TO_NAV,
    K.DIALOGUE_MEETING_2,
    K.WEEK_39_NOTICE,
    K.AAP_APPLICATION,
    K.EMPLOYMENT_REVIEW,
)
FORWARD = {
    Status.UPCOMING: 0,
    Status.DUE_SOON: 1,
    Status.OVERDUE: 2,
    Status.FULFILLED: 2,
    Status.NOT_REQUIRED: 2,
    Status.WAIVED: 2,
}


def obligations(history: History) -> dict[K, Obligation]:
    found = plan(fold(CASE_ID, history.events))
    by_kind = {o.kind: o for o in found}
    assert len(by_kind) == len(found), "an obligation kind appears twice"
    return by_kind


def case_start(history: History) -> date:
    absence = lay_days(fold(CASE_ID, history.events))
    assert absence is not None
    return absence.start


@PROPERTIES
@given(histories(), st.integers(-30, 800))
def test_every_kind_once_with_an_allowed_state_and_status(history: History, day: int) -> None:
    note(history.describe())
    facts = fold(CASE_ID, history.events)
    entries = timeline(facts, history.day(day))
    if lay_days(facts) is None:  # every note cancelled or cut away: nothing to follow up
        assert entries == []
        return
    assert sorted(e.obligation.kind for e in entries) == sorted(K)
    for entry in entries:
        assert entry.status in set(Status)
        assert entry.obligation.state in set(State)
        if entry.obligation.state is State.FULFILLED:
            assert entry.obligation.fulfilled_by is not None


@PROPERTIES
@given(histories())
def test_due_dates_never_precede_s_and_keep_the_rules_order(history: History) -> None:
    note(history.describe())
    found = obligations(history)
    if not found:
        return
    start = case_start(history)
    dated = {kind: o.due_date for kind, o in found.items() if o.due_date is not None}
    assert all(due >= start for due in dated.values()), (start, dated)
    for kind, offset in OFFSETS.items():
        assert dated[kind] == start + timedelta(days=offset), kind
    assert dated[K.AAP_APPLICATION] == add_months(start, 10)
    ordered = [dated[kind] for kind in ORDER if kind in dated]
    assert ordered == sorted(ordered), [(k, dated.get(k)) for k in ORDER]
    if K.REVISED_PLAN_TO_NAV in dated:  # only while meeting 2 applies
        assert dated[K.REVISED_PLAN_TO_NAV] == dated[K.DIALOGUE_MEETING_2] - timedelta(days=7)
    _employer_period_and_max_date(start, dated)


def _employer_period_and_max_date(start: date, dated: dict[K, date]) -> None:
    """The 16th sick day comes 15 days after S at the earliest; the maximum date is the 248th
    sick-pay weekday after it, so at least 248 weekdays lie between them."""
    end = dated.get(K.EMPLOYER_PERIOD_END)
    if end is None:
        assert K.MAX_DATE not in dated, "a maximum date without an employer period"
        return
    assert end >= start + timedelta(days=15)
    max_date = dated.get(K.MAX_DATE)
    if max_date is not None:
        span = (end + timedelta(days=n) for n in range(1, (max_date - end).days + 1))
        assert sum(1 for day in span if is_weekday(day)) >= 248


@PROPERTIES
@given(histories(), st.data())
def test_a_status_only_moves_forward_as_the_days_pass(
    history: History, data: st.DataObject
) -> None:
    note(history.describe())
    lead = data.draw(st.integers(0, 30))
    for obligation in obligations(history).values():
        if obligation.due_date is None:
            continue
        first = obligation.due_date - timedelta(days=lead + data.draw(st.integers(1, 10)))
        days = [first + timedelta(days=n) for n in range(lead + 25)]
        steps = [FORWARD[status_on(obligation, day, lead)] for day in days]
        assert steps == sorted(steps), (obligation.kind, steps)
        if obligation.state is State.OPEN and not obligation.milestone:
            assert status_on(obligation, obligation.due_date + timedelta(days=1), lead) is (
                Status.OVERDUE
            )


@PROPERTIES
@given(histories(), st.integers(1, 120))
def test_extending_the_last_note_never_moves_a_due_date_earlier(
    history: History, days: int
) -> None:
    note(history.describe())
    absence = lay_days(fold(CASE_ID, history.events))
    assume(absence is not None and history.notes)
    assert absence is not None
    last = max(history.notes, key=lambda note_id: (history.notes[note_id], note_id))
    # Forlengelse: the note that runs to the end of the absence goes on (extending a note
    # that ends before another absence fills a gap, and more sick days rightly come sooner).
    assume(history.notes[last] >= absence.last_known_day)
    before = obligations(history)
    extended = copy.deepcopy(history)
    extend_note(extended, last, days)
    after = obligations(extended)
    for kind, earlier in before.items():
        later = after[kind].due_date
        if earlier.due_date is not None and later is not None:
            assert later >= earlier.due_date, (kind, earlier.due_date, later)


@PROPERTIES
@given(histories(), st.integers(0, 400))
def test_the_fold_is_deterministic(history: History, day: int) -> None:
    today = history.day(day)
    first = timeline(fold(CASE_ID, history.events), today)
    again = timeline(fold(CASE_ID, list(history.events)), today)
    assert first == again


@PROPERTIES
@given(histories(), st.lists(st.tuples(st.integers(0, 40), IRRELEVANT), max_size=6))
def test_events_without_bearing_change_nothing(
    history: History, noise: list[tuple[int, object]]
) -> None:
    events = list(history.events)
    for position, payload in noise:
        # After the opening event: an irrelevant event never comes first in a real stream.
        events.insert(1 + position % len(events), RecordedEvent(f"noise-{position}", payload))
    assert plan(fold(CASE_ID, events)) == plan(fold(CASE_ID, history.events))


def test_an_extension_does_not_bring_back_a_day_a_return_to_work_took() -> None:
    # The first counterexample hypothesis found: back at full work on 2 January, then the
    # note running over that day was extended; it used to be laid anew over the return, so
    # 2 January counted as sick again and the employer period ended a day earlier.
    history = History(date(2023, 1, 1))
    history.add(
        c.CaseOpened(
            case_id=CASE_ID,
            employee_id="emp-1",
            manager_id="mgr-1",
            org_unit="warehouse",
            first_absence_day=date(2023, 1, 1),
            began_with="sick_note",
        )
    )
    for note_id, first, last in (("note-1", 1, 5), ("note-2", 3, 3)):
        history.notes[note_id] = date(2023, 1, last)
        history.add(
            c.SickNoteReceived(
                case_id=CASE_ID,
                sick_note_id=note_id,
                period_start=date(2023, 1, first),
                period_end=date(2023, 1, last),
                grade=20,
                kind="graded",
            )
        )
    history.add(
        c.ReturnedToWork(
            case_id=CASE_ID, returned_on=date(2023, 1, 2), extent="full", working_percent=100
        )
    )
    extend_note(history, "note-2", 1)
    before = obligations(history)[K.EMPLOYER_PERIOD_END].due_date
    extend_note(history, "note-1", 1)
    after = obligations(history)[K.EMPLOYER_PERIOD_END].due_date
    assert before is not None
    assert after is not None
    assert after >= before
    days = lay_days(fold(CASE_ID, history.events))
    assert days is not None
    assert days.day(date(2023, 1, 2)) is None  # the day back at work stays a work day
