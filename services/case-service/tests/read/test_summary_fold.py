"""The summary fold and its day rules, given events with concrete dates (S = Mon 2026-01-05)."""

from __future__ import annotations

import pytest

from case_service.app.summary_days import (
    AbsenceDay,
    AbsenceRun,
    Segment,
    absence_days,
    employer_period_end,
    summary_facts,
)
from case_service.app.summary_fold import fold, folded_event_types

from .builders import (
    adjustment,
    cancelled,
    closed,
    corrected,
    d,
    evaluated,
    extended,
    fold_all,
    graded,
    meeting_cancelled,
    meeting_held,
    meeting_scheduled,
    note,
    opened,
    pending_note,
    plan_created,
    plan_revised,
    plan_shared,
    reassigned,
    reopened,
    returned,
    self_cert,
)

S = "2026-01-05"


def test_one_full_sick_note() -> None:
    facts = summary_facts(fold_all([opened(S), note("n1", S, "2026-01-18")]))
    assert facts.days_absent == 14
    assert facts.last_absence_day == d("2026-01-18")
    assert facts.current_grade == 100
    assert facts.employer_period_end == d("2026-01-20")  # S + 15
    assert facts.segments == (Segment(d(S), d("2026-01-18"), "sick_note", 100),)


def test_a_case_without_absence_days_yet() -> None:
    facts = summary_facts(fold_all([opened(S)]))
    assert (facts.days_absent, facts.last_absence_day, facts.current_grade) == (0, None, None)
    assert facts.employer_period_end == d("2026-01-20")


def test_overlaps_count_once_and_the_sick_note_wins_over_self_certification() -> None:
    state = fold_all(
        [
            opened(S, began_with="self_certification"),
            self_cert(S, "2026-01-07"),
            note("n1", "2026-01-06", "2026-01-20"),
        ]
    )
    facts = summary_facts(state)
    assert facts.days_absent == 16  # 5th to 20th
    assert facts.segments == (
        Segment(d(S), d(S), "self_certification", 100),
        Segment(d("2026-01-06"), d("2026-01-20"), "sick_note", 100),
    )


def test_between_overlapping_sick_notes_the_later_one_sets_the_grade() -> None:
    state = fold_all(
        [opened(S), note("n1", S, "2026-01-31"), note("n2", "2026-01-19", "2026-02-15", 50)]
    )
    days = absence_days(state)
    assert days[d("2026-01-18")].grade == 100
    assert days[d("2026-01-19")].grade == 50
    assert summary_facts(state).days_absent == 42  # 5 Jan to 15 Feb


def test_extension_correction_and_cancellation() -> None:
    base = [opened(S), note("n1", S, "2026-01-18"), extended("n1", "2026-01-25")]
    assert summary_facts(fold_all(base)).last_absence_day == d("2026-01-25")
    fixed = fold_all([*base, corrected("n1", S, "2026-01-11", 60)])
    facts = summary_facts(fixed)
    assert (facts.days_absent, facts.current_grade) == (7, 60)
    gone = summary_facts(fold_all([*base, cancelled("n1")]))
    assert (gone.days_absent, gone.last_absence_day) == (0, None)


def test_an_extension_to_an_earlier_day_shortens_the_note() -> None:
    state = fold_all([opened(S), note("n1", S, "2026-01-18"), extended("n1", "2026-01-10")])
    assert summary_facts(state).last_absence_day == d("2026-01-10")
    emptied = fold_all([opened(S), note("n1", S, "2026-01-18"), extended("n1", "2026-01-01")])
    assert emptied.notes == {}


def test_grading_change_applies_from_its_day_and_a_correction_replaces_it() -> None:
    events = [opened(S), note("n1", S, "2026-01-31"), graded("n1", "2026-01-19", 40)]
    days = absence_days(fold_all(events))
    assert (days[d("2026-01-18")].grade, days[d("2026-01-19")].grade) == (100, 40)
    assert summary_facts(fold_all(events)).current_grade == 40
    # The corrected note states its own grade: the earlier grading change no longer applies.
    assert (
        summary_facts(fold_all([*events, corrected("n1", S, "2026-01-31", 80)])).current_grade == 80
    )


def test_an_extension_keeps_the_grade_the_note_has() -> None:
    events = [opened(S), note("n1", S, "2026-01-18"), graded("n1", "2026-01-12", 50)]
    facts = summary_facts(fold_all([*events, extended("n1", "2026-01-25")]))
    assert facts.current_grade == 50
    assert facts.days_absent == 21


def test_full_return_cuts_the_rest_of_the_note_but_a_later_note_counts_again() -> None:
    events = [opened(S), note("n1", S, "2026-01-31"), returned("2026-01-19")]
    facts = summary_facts(fold_all(events))
    assert (facts.last_absence_day, facts.days_absent) == (d("2026-01-18"), 14)
    later = summary_facts(fold_all([*events, note("n2", "2026-01-26", "2026-02-01", 50)]))
    assert (later.last_absence_day, later.current_grade) == (d("2026-02-01"), 50)
    assert later.days_absent == 21  # 14 + 7: the cut days of n1 stay cut


def test_an_extension_after_a_full_return_is_a_new_absence() -> None:
    events = [opened(S), note("n1", S, "2026-01-18"), returned("2026-01-12")]
    facts = summary_facts(fold_all([*events, extended("n1", "2026-01-25")]))
    assert facts.days_absent == 7 + 7  # 5th-11th, then the extension's 19th-25th


def test_partial_return_sets_the_grade_to_what_is_not_worked() -> None:
    events = [opened(S), note("n1", S, "2026-01-31"), returned("2026-01-19", working_percent=40)]
    days = absence_days(fold_all(events))
    assert (days[d("2026-01-18")].grade, days[d("2026-01-19")].grade) == (100, 60)
    # A grading change stated after the partial return wins again.
    regraded = fold_all([*events, graded("n1", "2026-01-26", 30)])
    assert summary_facts(regraded).current_grade == 30


def test_closing_cuts_after_the_closing_day_and_reopening_reopens() -> None:
    events = [opened(S), note("n1", S, "2026-01-31"), closed("2026-01-20")]
    state = fold_all(events)
    facts = summary_facts(state)
    assert (state.status, state.closed_on) == ("closed", d("2026-01-20"))
    assert facts.last_absence_day == d("2026-01-20")
    again = fold_all([*events, reopened("2026-02-02"), note("n2", "2026-02-02", "2026-02-08")])
    assert (again.status, again.closed_on) == ("open", None)
    assert summary_facts(again).days_absent == 16 + 7


def test_employer_period_counts_used_days_across_a_short_gap() -> None:
    events = [opened(S, began_with="self_certification"), self_cert(S, "2026-01-07")]
    events.append(note("n1", "2026-01-12", "2026-01-31"))
    # 3 days, a gap of 4, then the 4th day is the 12th: the 16th day is the 24th, not S + 15.
    assert summary_facts(fold_all(events)).employer_period_end == d("2026-01-24")


@pytest.mark.parametrize(
    ("covered", "expected"),
    [
        ([], "2026-01-20"),
        (["2026-01-05", "2026-01-06"], "2026-01-20"),
        (["2026-01-05", "2026-01-09"], "2026-01-23"),  # projected: 14 more days after the 9th
    ],
)
def test_employer_period_end_projected_from_the_latest_known_day(
    covered: list[str], expected: str
) -> None:
    runs = [AbsenceRun(d(day), d(day), AbsenceDay("sick_note", 100)) for day in covered]
    assert employer_period_end(d(S), runs) == d(expected)


def test_pending_note_days_are_case_days_marked_pending() -> None:
    facts = summary_facts(fold_all([opened(S), pending_note("p1", S, "2026-01-11")]))
    assert facts.days_absent == 7
    assert facts.segments == (Segment(d(S), d("2026-01-11"), "sick_note", 100, pending=True),)


def test_manager_reassignment_changes_the_current_manager() -> None:
    state = fold_all([opened(S), reassigned("mgr-1", "mgr-2", "2026-01-20")])
    assert state.manager_id == "mgr-2"


def test_plan_versions_and_sharing() -> None:
    state = fold_all(
        [opened(S), plan_created("2026-01-30"), plan_shared(1, "doctor", "2026-01-31")]
    )
    assert (state.plan_version, state.plan_shared_with) == (1, ["doctor"])
    revised = fold_all([opened(S), plan_created("2026-01-30"), plan_revised(2, "2026-02-20")])
    assert (revised.plan_version, revised.plan_made_on, revised.plan_shared_with) == (
        2,
        d("2026-02-20"),
        [],
    )


def test_meetings_scheduled_held_and_cancelled() -> None:
    state = fold_all(
        [
            opened(S),
            meeting_scheduled("m1", 1, "2026-02-10T09:00:00+01:00"),
            meeting_held("m1", 1, "2026-02-10"),
            meeting_scheduled("m2", 2, "2026-06-01T09:00:00+02:00"),
            meeting_scheduled("m3", 3, "2026-07-01T09:00:00+02:00"),
            meeting_cancelled("m3", 3),
            meeting_cancelled("m1", 1),  # a held meeting stays held
        ]
    )
    assert state.meetings["m1"].held_on == d("2026-02-10")
    assert not state.meetings["m1"].cancelled
    assert state.meetings["m3"].cancelled
    assert state.meetings["m2"].held_on is None


def test_adjustments_recorded_and_evaluated() -> None:
    state = fold_all(
        [
            opened(S),
            adjustment("a1", "2026-01-19", "2026-02-15"),
            adjustment("a2", "2026-01-19", "2026-01-31"),
            evaluated("a2", "2026-02-02"),
        ]
    )
    assert state.adjustments["a1"].evaluated_on is None
    assert state.adjustments["a2"].outcome == "worked"


def test_events_before_the_case_is_opened_fold_to_nothing() -> None:
    assert fold(None, note("n1", S, "2026-01-18"), 1) is None


def test_a_second_opened_event_changes_nothing_and_fold_never_mutates() -> None:
    state = fold_all([opened(S), note("n1", S, "2026-01-18")])
    snapshot = state.model_dump()
    assert fold(state, opened("2026-03-01", employee="emp-9"), 3) is state
    after = fold(state, graded("n1", "2026-01-12", 50), 3)
    assert after is not state
    assert state.model_dump() == snapshot


def test_folded_event_types_are_registered_contract_types() -> None:
    types = folded_event_types()
    assert {"case.opened", "case.sick_note_corrected", "case.grading_changed"} <= types
    assert "case.obligation_waived" not in types


def test_s_moves_to_an_earlier_first_absence_day() -> None:
    # Opened on the 7th, but the self-certification that came with it began on the 5th.
    state = fold_all([opened("2026-01-07"), self_cert(S, "2026-01-07")])
    facts = summary_facts(state)
    assert (state.first_absence_day, facts.case_start) == (d("2026-01-07"), d(S))
    assert facts.employer_period_end == d("2026-01-20")
