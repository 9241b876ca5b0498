"""The maximum date (maksdato, ftrl § 8-12): the 248th weekday with sick pay after the
employer period; grading does not matter, gaps move it later, earlier cases count for 3 years
unless 26 weeks fully fit lie between."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import State
from deadline_service.domain.maxdate import SickPayHistory

from ..builders import CaseScript, d


def _weekdays(first: date, count: int) -> frozenset[date]:
    days: set[date] = set()
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.add(day)
        day += timedelta(days=1)
    return frozenset(days)


def _case_2018(grade: int = 100) -> CaseScript:
    case = CaseScript("2018-01-01")
    case.note("2018-01-01", "2018-12-31", grade=grade)
    return case


def test_continuous_absence_reaches_the_max_date_of_nav() -> None:
    assert _case_2018().get("max_date").due_date == d("2018-12-28")


def test_a_graded_day_counts_as_a_whole_day() -> None:
    assert _case_2018(grade=50).get("max_date").due_date == d("2018-12-28")


def test_a_gap_does_not_count_so_it_moves_the_date_later() -> None:
    """15 days at work in July (10 weekdays): the same case, 10 weekdays later."""
    case = CaseScript("2018-01-01")
    case.note("2018-01-01", "2018-06-30")
    case.note("2018-07-16", "2019-03-31")
    assert case.get("max_date").due_date == d("2019-01-11")


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # 100 sick-pay days a month before: 148 left from 17 January
        (SickPayHistory(_weekdays(date(2017, 6, 1), 100), date(2017, 12, 1)), "2018-08-10"),
        # 26 weeks fully fit between the cases: the count starts again
        (SickPayHistory(_weekdays(date(2017, 3, 1), 100), date(2017, 6, 30)), "2018-12-28"),
        # no earlier cases
        (SickPayHistory(), "2018-12-28"),
    ],
    ids=["earlier-case-counts", "26-weeks-fit-resets", "none"],
)
def test_earlier_cases_count_unless_26_weeks_fit(history: SickPayHistory, expected: str) -> None:
    assert _case_2018().obligations(history=history)[K.MAX_DATE].due_date == d(expected)


def test_days_older_than_three_years_fall_out_of_the_count() -> None:
    """100 days early in 2015 and 100 in late 2017: by the time the count would reach 248 the
    2015 days have left the 3-year window, so only the 2017 days still count."""
    days = _weekdays(date(2015, 1, 5), 100) | _weekdays(date(2017, 8, 1), 100)
    history = SickPayHistory(days, date(2017, 12, 18))
    assert _case_2018().obligations(history=history)[K.MAX_DATE].due_date == d("2018-08-10")


def test_no_max_date_when_the_case_ends_inside_the_employer_period() -> None:
    case = CaseScript("2018-01-01")
    case.note("2018-01-01", "2018-01-12")
    case.close("2018-01-13")
    assert case.get("max_date").state is State.NOT_REQUIRED
