"""The maximum date (maksdato, ftrl § 8-12): the 248th weekday with sick pay.

Counted after the employer period, one day per weekday whatever the grade; gaps do not count
(so they move the date later). Sick-pay days of earlier cases count while they lie within the
last 3 years, unless the employee has since been fully fit for 26 weeks, which resets the count.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from deadline_service.domain.absence import EMPLOYER_PERIOD_DAYS, Absence
from deadline_service.domain.calendar import years_before

MAX_SICK_PAY_DAYS = 248
FIT_WEEKS_TO_RESET = 26
COUNT_YEARS = 3
HORIZON_DAYS = 5 * 366  # an open absence reaches 248 weekdays long before this


@dataclass(frozen=True, slots=True)
class SickPayHistory:
    """The employee's earlier cases: their sick-pay days and their last sick day."""

    days: frozenset[date] = field(default_factory=frozenset)
    last_sick_day: date | None = None


def max_date(
    absence: Absence, employer_period_end: date, history: SickPayHistory | None = None
) -> date | None:
    """The day the 248th sick-pay day is used; None when the absence ends before it."""
    counting = () if history is None else _still_counting(absence.start, history)
    earlier = deque(sorted(counting))
    if not earlier:  # only this case counts (most cases): its 248th sick-pay weekday
        return absence.sick_pay_weekday(employer_period_end, MAX_SICK_PAY_DAYS)
    used = len(earlier)
    for count, day in enumerate(absence.sick_pay_weekdays(employer_period_end), start=1):
        if count > HORIZON_DAYS:
            return None
        window_start = years_before(day, COUNT_YEARS)
        while earlier and earlier[0] <= window_start:
            earlier.popleft()
            used -= 1
        used += 1
        if used >= MAX_SICK_PAY_DAYS:
            return day
        if not earlier:  # every earlier day dropped out: again only this case counts
            return absence.sick_pay_weekday(employer_period_end, MAX_SICK_PAY_DAYS)
    return None


def _still_counting(start: date, history: SickPayHistory) -> Iterable[date]:
    """Earlier days, unless 26 weeks fully fit lie between them and this case."""
    if history.last_sick_day is None:
        return history.days
    fit_days = (start - history.last_sick_day).days - 1
    if fit_days >= 7 * FIT_WEEKS_TO_RESET:
        return ()
    return (day for day in history.days if day < start)


def known_sick_pay_ordinals(absence: Absence) -> list[int]:
    """The sick-pay weekdays the facts already show, without projection: what a later case of
    the same employee counts (the known days after the 16th known day). As day ordinals in
    order (``date.fromordinal``): a long absence has hundreds, recounted at every event, and
    the case row keeps them as text, so no date needs to be made of them."""
    return absence.known_weekday_ordinals_after(EMPLOYER_PERIOD_DAYS)
