"""Periods of days (from, to: both included) and the calendar arithmetic the rules need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from case_service.domain.errors import RuleBroken

EMPLOYER_PERIOD_DAYS = 16
"""The employer pays the first 16 calendar days (arbeidsgiverperioden, ftrl § 8-19)."""
NEW_CASE_AFTER_DAYS = 16
"""16 or more consecutive non-sick days make a new case (oppfølgingstilfelle)."""


@dataclass(frozen=True)
class Period:
    """Calendar days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        if end < start:
            raise RuleBroken(
                "period_end_before_start", f"the period ends ({end}) before it starts ({start})"
            )
        return cls(start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    def within(self, other: Period) -> bool:
        return other.start <= self.start and self.end <= other.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


def employer_period(case_start: date) -> Period:
    """S … S + 15: the days of the employer period of a case that starts on S."""
    return Period(case_start, case_start + timedelta(days=EMPLOYER_PERIOD_DAYS - 1))


def twelve_months_before(day: date) -> date:
    """The same calendar day a year earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def not_in_future(day: date, today: date, what: str) -> None:
    """Facts are recorded after they happen: ``day`` may not lie after ``today``."""
    if day > today:
        raise RuleBroken("date_in_future", f"{what} ({day}) lies in the future (today: {today})")
