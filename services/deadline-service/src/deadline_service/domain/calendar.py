"""Counting days the way NAV counts them (see RULES.md, "Counting conventions")."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

DAY = timedelta(days=1)


def within_weeks(start: date, weeks: int) -> date:
    """The last day of week ``weeks`` counted from ``start``: S + 7·N - 1 (isaktivitetskrav)."""
    return start + timedelta(days=7 * weeks - 1)


def add_months(day: date, months: int) -> date:
    """``day`` plus calendar months; the 31st of a shorter month becomes its last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=4096)
def years_before(day: date, years: int) -> date:
    """The same date ``years`` earlier (29 February falls back to the 28th).

    Memoised: the maximum date asks it for each sick-pay day of every case with history."""
    return add_months(day, -12 * years)


@lru_cache(maxsize=8192)
def iso_of_ordinal(ordinal: int) -> str:
    """The day of ``ordinal`` (``date.toordinal``) as ISO 8601 text, memoised: every
    recomputation of a case renders its sick-pay days again (for the case row), most of them
    the days it rendered the time before."""
    return date.fromordinal(ordinal).isoformat()


def is_weekday(day: date) -> bool:
    """Monday to Friday (public holidays are not special: they do not move legal deadlines)."""
    return day.weekday() < 5


_TO_NEXT_WEEKDAY = (1, 1, 1, 1, 3, 2, 1)  # days from Monday … Sunday to the next weekday


def next_weekday(day: date) -> date:
    """The first weekday after ``day``."""
    return day + timedelta(days=_TO_NEXT_WEEKDAY[day.weekday()])


def nth_weekday_after(day: date, number: int) -> date:
    """The ``number``-th weekday (from 1) after ``day``: whole weeks of five, then the rest,
    two days more when the rest crosses a weekend."""
    first = next_weekday(day)
    weeks, rest = divmod(number - 1, 5)
    weekend = 2 if first.weekday() + rest > 4 else 0
    return first + timedelta(days=7 * weeks + rest + weekend)
