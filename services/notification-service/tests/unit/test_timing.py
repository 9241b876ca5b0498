"""Quiet hours and days off, with concrete dates (Europe/Oslo, Norwegian public holidays)."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from notification_service.domain.policy import QuietHours, TenantPolicy
from notification_service.domain.timing import in_quiet_hours, is_working_day, send_after

OSLO = ZoneInfo("Europe/Oslo")
POLICY = TenantPolicy()


def oslo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=OSLO)


@pytest.mark.parametrize(
    ("now", "audience", "channel", "reminder", "expected"),
    [
        # Christmas Day 2026 is a Friday; Saturday and Sunday follow: Monday 28th at 08:00.
        ("2026-12-25 10:00", "manager", "email", True, "2026-12-28 08:00"),
        # Constitution Day 2026 is a Sunday: Monday 18 May at 08:00 (summer time).
        ("2026-05-17 12:00", "manager", "email", True, "2026-05-18 08:00"),
        # Ascension Day (Thursday 14 May 2026): Friday at 08:00.
        ("2026-05-14 09:30", "hr", "email", True, "2026-05-15 08:00"),
        # Christmas Eve is a working day in Norway (not a public holiday).
        ("2026-12-24 10:00", "manager", "email", True, "2026-12-24 10:00"),
        # An ordinary Tuesday morning: at once.
        ("2026-03-10 10:00", "manager", "email", True, "2026-03-10 10:00"),
        # Employee at night: 07:00 the next morning.
        ("2026-03-10 22:30", "employee", "email", True, "2026-03-11 07:00"),
        ("2026-03-10 06:59", "employee", "sms", False, "2026-03-10 07:00"),
        ("2026-03-10 07:00", "employee", "sms", False, "2026-03-10 07:00"),
        ("2026-03-10 21:00", "employee", "sms", False, "2026-03-11 07:00"),
        ("2026-03-10 20:59", "employee", "sms", False, "2026-03-10 20:59"),
        # Friday night reminder to the employee: out of the night, then off the weekend.
        ("2026-03-13 22:30", "employee", "email", True, "2026-03-16 08:00"),
        # New Year's Eve night → 1 January (holiday) → Saturday, Sunday → Monday 4 January.
        ("2026-12-31 22:00", "employee", "email", True, "2027-01-04 08:00"),
        # Managers may get email at night by default; webhooks are machine-to-machine.
        ("2026-03-10 23:00", "manager", "email", True, "2026-03-10 23:00"),
        ("2026-03-10 23:00", "employee", "webhook", False, "2026-03-10 23:00"),
        # A meeting notice is not a reminder: not held over a weekend, only out of the night.
        ("2026-03-14 12:00", "manager", "email", False, "2026-03-14 12:00"),
        ("2026-03-14 22:00", "employee", "email", False, "2026-03-15 07:00"),
        # Spring forward (29 March 2026, 02:00 → 03:00): 07:00 is still 07:00 local.
        ("2026-03-29 01:30", "employee", "sms", False, "2026-03-29 07:00"),
    ],
)
def test_send_after(now: str, audience: str, channel: str, reminder: bool, expected: str) -> None:
    moment = send_after(oslo(now), POLICY, audience=audience, channel=channel, reminder=reminder)
    assert moment.astimezone(OSLO) == oslo(expected)
    assert moment.utcoffset() is not None
    assert moment.utcoffset().total_seconds() == 0


def test_summer_time_is_applied_to_the_utc_result() -> None:
    moment = send_after(
        oslo("2026-05-17 12:00"), POLICY, audience="hr", channel="email", reminder=True
    )
    assert moment.isoformat() == "2026-05-18T06:00:00+00:00"


def test_quiet_hours_are_configurable_per_tenant() -> None:
    policy = TenantPolicy(
        quiet_hours=QuietHours(start=time(22, 0), end=time(6, 30), audiences=frozenset({"manager"}))
    )
    late = oslo("2026-03-10 22:15")
    to_manager = send_after(late, policy, audience="manager", channel="email", reminder=False)
    to_employee = send_after(late, policy, audience="employee", channel="email", reminder=False)
    assert to_manager.astimezone(OSLO) == oslo("2026-03-11 06:30")
    assert to_employee.astimezone(OSLO) == late


def test_holiday_shift_can_be_switched_off() -> None:
    policy = TenantPolicy(shift_reminders_off_holidays=False)
    moment = send_after(
        oslo("2026-12-25 10:00"), policy, audience="hr", channel="email", reminder=True
    )
    assert moment.astimezone(OSLO) == oslo("2026-12-25 10:00")


def test_quiet_hours_within_one_day_and_empty() -> None:
    lunch = QuietHours(start=time(12, 0), end=time(13, 0))
    assert in_quiet_hours(time(12, 30), lunch)
    assert not in_quiet_hours(time(13, 0), lunch)
    assert not in_quiet_hours(time(3, 0), QuietHours(start=time(9, 0), end=time(9, 0)))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-04-02", False),  # Maundy Thursday (skjærtorsdag)
        ("2026-04-03", False),  # Good Friday
        ("2026-04-06", False),  # Easter Monday
        ("2026-05-01", False),  # Labour Day
        ("2026-05-25", False),  # Whit Monday
        ("2026-05-26", True),
        ("2026-12-26", False),  # Saturday and Boxing Day
    ],
)
def test_working_days(day: str, working: bool) -> None:
    assert is_working_day(datetime.fromisoformat(day).date()) is working
