"""RULES.md's worked example: sick 100 % from Monday 2018-01-01, continuously (verified against
NAV's sick-pay engine for ``max_date``)."""

from __future__ import annotations

from deadline_service.domain.kinds import State

from ..builders import CaseScript, d

EXPECTED = {
    "employer_period_end": "2018-01-16",  # ftrl § 8-19
    "follow_up_plan": "2018-01-28",  # aml § 4-6 (3)
    "dialogue_meeting_1": "2018-02-18",  # aml § 4-6 (4)
    "activity_requirement": "2018-02-25",  # ftrl § 8-8 (2)
    "meeting_need_query": "2018-04-22",  # NAV practice (syfomotebehov)
    "revised_plan_to_nav": "2018-06-24",  # ftrl § 8-7a
    "dialogue_meeting_2": "2018-07-01",  # ftrl § 8-7a
    "week_39_notice": "2018-09-30",  # NAV practice
    "aap_application": "2018-11-01",  # ftrl ch. 11 (policy: 10 months)
    "max_date": "2018-12-28",  # ftrl § 8-12
    "employment_review": "2018-12-31",  # aml § 15-8
}


def test_the_worked_example_exactly() -> None:
    case = CaseScript("2018-01-01")
    case.note("2018-01-01", "2018-12-31")
    obligations = case.obligations()
    due = {kind.value: o.due_date for kind, o in obligations.items() if o.due_date is not None}
    assert due == {kind: d(day) for kind, day in EXPECTED.items()}
    assert all(obligations[kind].state is State.OPEN for kind in obligations if kind in EXPECTED)


def test_the_worked_example_holds_when_the_note_is_open_ended() -> None:
    """The same dates while only the first weeks are certified: the absence is projected."""
    case = CaseScript("2018-01-01")
    case.note("2018-01-01", "2018-01-14")
    due = {k.value: o.due_date for k, o in case.obligations().items() if o.due_date}
    assert due == {kind: d(day) for kind, day in EXPECTED.items()}
