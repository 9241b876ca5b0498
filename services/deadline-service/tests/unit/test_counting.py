"""Counting conventions (RULES.md): S + 7·N - 1, calendar months, one case or two, and the
employer period (arbeidsgiverperioden, ftrl § 8-19)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from deadline_service.domain.calendar import add_months, within_weeks, years_before
from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import State

from ..builders import CaseScript, d


@pytest.mark.parametrize(
    ("start", "weeks", "due"),
    [
        ("2018-01-01", 4, "2018-01-28"),  # aml § 4-6 (3): RULES.md's example
        ("2018-01-01", 8, "2018-02-25"),  # ftrl § 8-8: isaktivitetskrav plusWeeks(8).minusDays(1)
        ("2024-02-01", 4, "2024-02-28"),  # leap year, inside February
        ("2024-02-05", 4, "2024-03-03"),  # leap year: 29 February is counted
        ("2023-02-06", 4, "2023-03-05"),  # common year
        ("2024-12-30", 7, "2025-02-16"),  # across the new year
    ],
)
def test_within_n_weeks_is_the_last_day_of_week_n(start: str, weeks: int, due: str) -> None:
    assert within_weeks(d(start), weeks) == d(due)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2018-01-01", 10, "2018-11-01"),  # ftrl ch. 11: AAP at 10 months (policy)
        ("2024-01-31", 1, "2024-02-29"),  # leap year: the month's last day
        ("2023-01-31", 1, "2023-02-28"),
        ("2023-05-31", 10, "2024-03-31"),
        ("2025-03-31", 11, "2026-02-28"),
    ],
)
def test_calendar_months_clamp_to_the_month_end(day: str, months: int, expected: str) -> None:
    assert add_months(d(day), months) == d(expected)


def test_three_years_before_a_leap_day_is_the_28th() -> None:
    assert years_before(date(2024, 2, 29), 3) == date(2021, 2, 28)


def _gap(days: int) -> CaseScript:
    """A note, ``days`` non-sick days, then another note."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-16")
    second = date(2025, 3, 16).toordinal() + days + 1
    case.note(date.fromordinal(second).isoformat(), "2025-06-30")
    return case


@pytest.mark.parametrize(
    ("gap_days", "start"),
    [
        (0, "2025-03-03"),
        (15, "2025-03-03"),  # 15 or fewer non-sick days: the same case, same S
        (16, "2025-04-02"),  # 16 or more: a new case starts (isoppfolgingstilfelle)
        (30, "2025-04-16"),
    ],
)
def test_one_case_or_two(gap_days: int, start: str) -> None:
    """Oppfølgingstilfelle: ``notSykedagSinceLastSykedagCounter >= 16`` starts a new case;
    the follow-up plan (aml § 4-6 (3)) is then due 4 weeks after the new S."""
    plan = _gap(gap_days).get("follow_up_plan")
    assert plan.due_date == within_weeks(d(start), 4)


CaseBuilder = Callable[[], CaseScript]


def _continuous() -> CaseScript:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-05-31")
    return case


def _graded() -> CaseScript:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-05-31", grade=40)
    return case


def _short_gap() -> CaseScript:
    """7 sick days, 7 days at work, sick again: the days already used count (ftrl § 8-19)."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-09")
    case.note("2025-03-17", "2025-05-31")
    return case


def _self_certified_first() -> CaseScript:
    case = CaseScript("2025-03-03", began_with="self_certification")
    case.self_certified("2025-03-03", "2025-03-05")
    case.note("2025-03-06", "2025-05-31")
    return case


def _note_from_the_past() -> CaseScript:
    """The case was opened on the 10th; the note says the absence began on the 3rd."""
    case = CaseScript("2025-03-10")
    case.note("2025-03-03", "2025-05-31")
    return case


def _new_case_after_16_days() -> CaseScript:
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-16")
    case.note("2025-04-02", "2025-06-30")
    return case


@pytest.mark.parametrize(
    ("build", "end"),
    [
        (_continuous, "2025-03-18"),  # S + 15
        (_graded, "2025-03-18"),  # calendar days: the grade does not matter
        (_short_gap, "2025-03-25"),  # 7 days used, the 9 more from the 17th
        (_self_certified_first, "2025-03-18"),  # egenmelding days count
        (_note_from_the_past, "2025-03-18"),  # S moves back to the note's first day
        (_new_case_after_16_days, "2025-04-17"),  # a new employer period after 16 days back
    ],
    ids=["continuous", "graded", "short-gap", "self-certified", "past-note", "new-case"],
)
def test_employer_period_end(build: CaseBuilder, end: str) -> None:
    """ftrl § 8-19: the 16th calendar day of employer-paid absence."""
    epe = build().get("employer_period_end")
    assert (epe.due_date, epe.state) == (d(end), State.OPEN)


def test_an_absence_shorter_than_the_employer_period_never_reaches_its_end() -> None:
    """ftrl § 8-19: back at work on day 9, the case closed: nothing further is required."""
    case = CaseScript("2025-03-03")
    case.note("2025-03-03", "2025-03-10")
    case.returned("2025-03-11")
    obligations = case.obligations()
    assert obligations[K.EMPLOYER_PERIOD_END].state is State.NOT_REQUIRED
    assert {o.state for o in obligations.values()} == {State.NOT_REQUIRED}


def test_no_timeline_before_the_case_is_opened() -> None:
    case = CaseScript("2025-03-03")
    case.events.clear()
    assert case.obligations() == {}
