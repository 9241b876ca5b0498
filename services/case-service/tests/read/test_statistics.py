"""Absence statistics as pure functions, with concrete dates (period: January 2026)."""

from __future__ import annotations

from datetime import date

import pytest

from case_service.app.statistics_absence import (
    AbsenceCase,
    Period,
    Tally,
    Thresholds,
    absence_statistics,
    employee_flags,
    months_before,
    spells,
    weekdays,
)
from case_service.app.summary_days import Segment, Source

JANUARY = Period(date(2026, 1, 1), date(2026, 1, 31))


def seg(
    start: str, end: str, grade: int = 100, source: Source = "sick_note", *, pending: bool = False
) -> Segment:
    return Segment(date.fromisoformat(start), date.fromisoformat(end), source, grade, pending)


def case(case_id: str, employee: str, *segments: Segment) -> AbsenceCase:
    return AbsenceCase(case_id, employee, tuple(segments))


UNIT = [
    case("c1", "emp-1", seg("2026-01-05", "2026-01-09")),  # Mon-Fri: short, 5 lost
    case("c2", "emp-2", seg("2025-12-15", "2026-01-11")),  # 28 days: long, 11 in Jan, 7 lost
    case("c3", "emp-3", seg("2026-01-12", "2026-01-25", 50)),  # short, 10 workdays at 50 %
    case("c4", "emp-1", seg("2026-01-26", "2026-01-28", source="self_certification")),
    case("c5", "emp-4", seg("2026-01-19", "2026-01-23", pending=True)),  # pending: 0 lost
    case("c6", "emp-5", seg("2025-11-01", "2025-11-20")),  # no day in January
]


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-01-01", "2026-01-31", 22),
        ("2026-01-03", "2026-01-04", 0),  # a weekend
        ("2026-01-05", "2026-01-05", 1),
        ("2026-01-05", "2026-01-04", 0),
        ("2026-01-01", "2026-12-31", 261),
    ],
)
def test_weekdays(start: str, end: str, expected: int) -> None:
    assert weekdays(date.fromisoformat(start), date.fromisoformat(end)) == expected


def test_rate_days_lost_short_long_and_sources() -> None:
    stats = absence_statistics(UNIT, JANUARY, headcount=10)
    assert stats.workdays == 22
    assert stats.available_workdays == 220
    assert stats.days_lost == 20.0  # 5 + 7 + 5 + 3 + 0
    assert stats.absence_rate == 9.09
    assert stats.short == Tally(count=4, days=5 + 14 + 3 + 5)
    assert stats.long == Tally(count=1, days=11)
    assert stats.self_certified_days == 3
    assert stats.doctor_certified_days == 5 + 11 + 14 + 5
    assert stats.flagged == ()


def test_no_headcount_no_rate() -> None:
    stats = absence_statistics(UNIT, JANUARY)
    assert (stats.available_workdays, stats.absence_rate) == (None, None)
    assert stats.days_lost == 20.0


def test_a_case_is_classified_by_its_days_up_to_the_period_end() -> None:
    # 10 days in January, 20 more in February: short as of January, long as of February.
    running = [case("c1", "emp-1", seg("2026-01-22", "2026-02-20"))]
    assert absence_statistics(running, JANUARY).short == Tally(1, 10)
    february = Period(date(2026, 2, 1), date(2026, 2, 28))
    assert absence_statistics(running, february).long == Tally(1, 20)


def test_spells_merge_touching_segments_whatever_covers_them() -> None:
    runs = spells(
        [
            seg("2026-01-08", "2026-01-20"),
            seg("2026-01-05", "2026-01-07", source="self_certification"),
            seg("2026-02-02", "2026-02-03"),
        ]
    )
    assert runs == [
        (date(2026, 1, 5), date(2026, 1, 20)),
        (date(2026, 2, 2), date(2026, 2, 3)),
    ]


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2026-08-31", 6, "2026-02-28"),
        ("2024-08-31", 6, "2024-02-29"),
        ("2026-01-31", 36, "2023-01-31"),
        ("2026-03-15", 3, "2025-12-15"),
    ],
)
def test_months_before(day: str, months: int, expected: str) -> None:
    assert months_before(date.fromisoformat(day), months) == date.fromisoformat(expected)


def test_three_short_spells_in_six_months_set_the_pattern_flag() -> None:
    cert: Source = "self_certification"
    three = [
        case("a1", "emp-5", seg("2025-07-20", "2025-07-21", source=cert)),  # before the window
        case("a2", "emp-5", seg("2025-09-01", "2025-09-03", source=cert)),
        case("a3", "emp-5", seg("2025-11-10", "2025-11-12", source=cert)),
        case("a4", "emp-5", seg("2026-01-14", "2026-01-15", source=cert)),
    ]
    two_short_one_long = [
        case("b1", "emp-6", seg("2025-09-01", "2025-09-03")),
        case("b2", "emp-6", seg("2025-10-01", "2025-10-20")),  # 20 days: not short
        case("b3", "emp-6", seg("2026-01-14", "2026-01-15")),
    ]
    flags = {
        f.employee_id: f
        for f in employee_flags([*three, *two_short_one_long], date(2026, 1, 31), Thresholds())
    }
    assert (flags["emp-5"].short_spells, flags["emp-5"].pattern_flag) == (3, True)
    assert (flags["emp-6"].short_spells, flags["emp-6"].pattern_flag) == (2, False)
    # The window starts the day after 31 July: a spell on 31 July itself is outside.
    edge = [case("e", "emp-9", seg("2025-07-31", "2025-07-31")), *three[1:3]]
    assert employee_flags(edge, date(2026, 1, 31), Thresholds())[0].short_spells == 2
    # Thresholds are parameters.
    strict = Thresholds(pattern_min_spells=4)
    assert not employee_flags(three, date(2026, 1, 31), strict)[0].pattern_flag
    wide = Thresholds(pattern_window_months=7, pattern_min_spells=4)
    assert employee_flags(three, date(2026, 1, 31), wide)[0].pattern_flag


def test_navs_flag_two_cases_with_300_days() -> None:
    cases = [
        case("n1", "emp-7", seg("2023-03-01", "2023-10-31")),  # 245 days
        case("n2", "emp-7", seg("2025-01-01", "2025-03-31")),  # 90 days
    ]
    flags = employee_flags(cases, date(2026, 1, 31), Thresholds())[0]
    assert (flags.nav_cases, flags.nav_days, flags.nav_flag) == (2, 335, True)
    # Three years back from 31 Jan 2026 begins on 1 Feb 2023; move the first case earlier
    # and only its days inside the window count.
    earlier = [case("n1", "emp-7", seg("2022-12-01", "2023-07-31")), cases[1]]
    flags = employee_flags(earlier, date(2026, 1, 31), Thresholds())[0]
    assert (flags.nav_days, flags.nav_flag) == (181 + 90, False)


@pytest.mark.parametrize(("days_each", "flagged"), [(20, True), (19, False)])
def test_navs_flag_five_cases_with_100_days(days_each: int, flagged: bool) -> None:
    cases = [
        case(f"k{i}", "emp-8", seg(f"2025-0{i + 1}-01", f"2025-0{i + 1}-{days_each:02d}"))
        for i in range(5)
    ]
    flags = employee_flags(cases, date(2026, 1, 31), Thresholds())[0]
    assert (flags.nav_cases, flags.nav_days, flags.nav_flag) == (5, 5 * days_each, flagged)


def test_only_flagged_employees_are_listed() -> None:
    cert: Source = "self_certification"
    pattern = [
        case(f"p{i}", "emp-10", seg(day, day, source=cert))
        for i, day in enumerate(["2025-09-01", "2025-11-10", "2026-01-14"])
    ]
    stats = absence_statistics([*UNIT, *pattern], JANUARY, headcount=10)
    assert [f.employee_id for f in stats.flagged] == ["emp-10"]


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends on or after"):
        Period(date(2026, 2, 1), date(2026, 1, 31))
