"""How the timeline follows the life of a case: reopening, returns, extensions, cancellations,
waivers; and the status of each obligation on a given day (S is Monday 2025-03-03)."""

from __future__ import annotations

from datetime import date

import pytest

from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import Stage, State, Status
from deadline_service.domain.timeline import Obligation, due_timers, status_on, timeline

from ..builders import CaseScript, d


def _returned_and_closed() -> CaseScript:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-20", note_id="n1")
    case.returned("2025-03-21")
    case.close("2025-03-21")
    return case


def test_a_case_reopened_within_16_days_keeps_s_and_its_deadlines() -> None:
    """Oppfølgingstilfelle: 11 days back at work, then sick again: the same case continues,
    so the follow-up plan (aml § 4-6 (3)) is required again, due S + 27 as before."""
    case = _returned_and_closed()
    assert case.get("follow_up_plan").state is State.NOT_REQUIRED
    case.reopen("2025-04-01")
    case.note("2025-04-01", "2025-06-30", note_id="n2")
    plan = case.get("follow_up_plan")
    assert (plan.due_date, plan.state) == (d("2025-03-30"), State.OPEN)
    assert case.get("dialogue_meeting_1").due_date == d("2025-04-20")


def test_a_full_return_ends_the_case_the_day_before() -> None:
    """Back at work on 10 April: the plan (due 30 March, aml § 4-6 (3)) was still required,
    meeting 1 (due 20 April, aml § 4-6 (4)) no longer is."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-05-31")
    case.returned("2025-04-10")
    assert case.get("follow_up_plan").state is State.OPEN
    assert case.get("dialogue_meeting_1").state is State.NOT_REQUIRED


def test_an_extension_after_a_return_means_the_absence_went_on() -> None:
    case = _returned_and_closed()
    case.reopen("2025-03-25")
    case.extend("n1", "2025-06-30")
    assert case.get("dialogue_meeting_1").state is State.OPEN


def test_a_cancelled_note_no_longer_counts() -> None:
    """Without the March note the absence starts on 1 April (28 days with no note between)."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-31", note_id="n1")
    case.note("2025-04-01", "2025-08-31", grade=50, note_id="n2")
    case.cancel("n1")
    assert case.get("follow_up_plan").due_date == d("2025-04-28")
    assert case.get("dialogue_meeting_1").state is State.NOT_REQUIRED  # graded only now


def test_a_waiver_does_not_undo_a_fulfilment() -> None:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-06-30")
    plan = case.plan("2025-03-20")
    case.waive("follow_up_plan", "2025-03-25")
    assert (case.get("follow_up_plan").state, case.get("follow_up_plan").fulfilled_by) == (
        State.FULFILLED,
        plan,
    )


@pytest.mark.parametrize(
    ("today", "status"),
    [
        ("2025-03-01", Status.UPCOMING),
        ("2025-03-22", Status.UPCOMING),
        ("2025-03-23", Status.DUE_SOON),  # 7 days before: inside the lead time
        ("2025-03-30", Status.DUE_SOON),  # the due date itself
        ("2025-03-31", Status.OVERDUE),
    ],
)
def test_status_of_an_open_duty(today: str, status: Status) -> None:
    """aml § 4-6 (3): the follow-up plan, due 30 March, on various days."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-06-30")
    assert status_on(case.get("follow_up_plan"), d(today), 7) is status


def test_an_overdue_duty_stays_overdue_on_a_closed_case() -> None:
    """A missed duty remains on the record: meeting 1 (aml § 4-6 (4)) missed, case closed."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-04-30")
    case.close("2025-05-01")
    assert status_on(case.get("dialogue_meeting_1"), d("2025-06-01"), 7) is Status.OVERDUE


def test_a_milestone_is_fulfilled_by_reaching_it() -> None:
    """ftrl § 8-19: the employer period end is information, never overdue."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-06-30")
    epe = case.get("employer_period_end")
    assert status_on(epe, d("2025-03-17"), 7) is Status.DUE_SOON
    assert status_on(epe, d("2025-03-18"), 7) is Status.FULFILLED
    assert _reminder_stages(epe, 7) == [
        (Stage.APPROACHING, d("2025-03-11")),
        (Stage.DUE, d("2025-03-18")),
    ]


def test_an_open_duty_has_three_reminder_stages_and_a_settled_one_none() -> None:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-06-30")
    assert _reminder_stages(case.get("follow_up_plan"), 3) == [
        (Stage.APPROACHING, d("2025-03-27")),
        (Stage.DUE, d("2025-03-30")),
        (Stage.OVERDUE, d("2025-03-31")),
    ]
    case.plan("2025-03-20")
    assert _reminder_stages(case.get("follow_up_plan"), 3) == []


def test_the_timeline_lists_every_kind_once_with_its_status() -> None:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-06-30")
    entries = timeline(case.facts(), date(2025, 4, 1))
    assert [e.obligation.kind for e in entries] == list(K)
    statuses = {e.obligation.kind: e.status for e in entries}
    assert statuses[K.FOLLOW_UP_PLAN] is Status.OVERDUE
    assert statuses[K.DIALOGUE_MEETING_3] is Status.NOT_REQUIRED
    assert statuses[K.EMPLOYER_PERIOD_END] is Status.FULFILLED


def _reminder_stages(obligation: Obligation, lead_days: int) -> list[tuple[Stage, date]]:
    """The obligation's deadline timers (``due_timers``), as its stages in firing order."""
    timers = due_timers([obligation], lead_days)
    return [(Stage(stage), fire_on) for (_, stage, _), fire_on in timers.items()]
