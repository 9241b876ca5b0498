"""When a notice may leave (tidspunkt): quiet hours at night, no reminders on days off.

Pure functions of an injected ``now``: the runtime passes the service clock's reading.
Public holidays come from the ``holidays`` package (Norway); weekends are Saturday and Sunday.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import holidays

from notification_service.domain.policy import QuietHours, TenantPolicy

HOLIDAY_COUNTRY = "NO"


def send_after(
    now: datetime, policy: TenantPolicy, *, audience: str, channel: str, reminder: bool
) -> datetime:
    """The earliest moment (UTC) a notice to ``audience`` through ``channel`` may be sent.

    First out of the quiet hours, then, for reminders, off weekends and public holidays:
    Friday 22:30 becomes Saturday 07:00 and then Monday 08:00.
    """
    moment = now.astimezone(policy.zone)
    if policy.quiet_hours.applies(audience, channel):
        moment = after_quiet_hours(moment, policy.quiet_hours)
    if reminder and policy.shift_reminders_off_holidays and not is_working_day(moment.date()):
        moment = at_local(next_working_day(moment.date()), policy.working_day_start, moment)
    return moment.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; one without a zone is read as UTC (as the contracts' times are)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def after_quiet_hours(moment: datetime, quiet: QuietHours) -> datetime:
    """``moment`` itself, or the end of the quiet hours it falls into (same time zone)."""
    clock = moment.timetz().replace(tzinfo=None)
    if not in_quiet_hours(clock, quiet):
        return moment
    end_day = moment.date()
    if quiet.start > quiet.end and clock >= quiet.start:
        end_day += timedelta(days=1)  # the quiet hours run over midnight
    return at_local(end_day, quiet.end, moment)


def in_quiet_hours(clock: time, quiet: QuietHours) -> bool:
    """Is the local wall-clock time ``clock`` inside the quiet hours?"""
    if quiet.start == quiet.end:
        return False
    if quiet.start < quiet.end:
        return quiet.start <= clock < quiet.end
    return clock >= quiet.start or clock < quiet.end


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Norwegian public holiday (helligdag)."""
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    """The first working day after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def at_local(day: date, clock: time, like: datetime) -> datetime:
    """``day`` at wall-clock ``clock`` in the time zone of ``like`` (DST-correct)."""
    return datetime.combine(day, clock, tzinfo=like.tzinfo)


@lru_cache(maxsize=16)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays(HOLIDAY_COUNTRY, years=year)
