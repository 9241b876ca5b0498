"""The development clock control: a shared offset in ``<data_dir>/clock.json``."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from naervaer.clock import ControlledClock, SystemClock

# Generous enough for a loaded CI machine, tight enough to catch a wrong offset.
SLACK = timedelta(seconds=5)
OSLO_WINTER = timezone(timedelta(hours=1))


def close_to(actual: datetime, expected: datetime) -> bool:
    return expected - SLACK <= actual <= expected + SLACK


def test_without_a_file_the_clock_is_real_time(tmp_path: Path) -> None:
    clock = ControlledClock(tmp_path / "clock.json")
    now = clock.now()
    assert now.tzinfo is not None
    assert close_to(now, SystemClock().now())


def test_set_moves_the_clock_to_the_moment(tmp_path: Path) -> None:
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(datetime(2027, 3, 1, 9, 0, tzinfo=OSLO_WINTER))
    assert close_to(clock.now(), datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    assert clock.now().utcoffset() == timedelta(0)


def test_time_keeps_running_after_set(tmp_path: Path) -> None:
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    first = clock.now()
    assert clock.now() >= first


def test_setting_one_clock_moves_every_clock_sharing_the_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "clock.json"
    reader = ControlledClock(path)
    assert close_to(reader.now(), SystemClock().now())  # caches "no file"
    ControlledClock(path).set(datetime(2026, 2, 16, 12, 0, tzinfo=UTC))
    assert close_to(reader.now(), datetime(2026, 2, 16, 12, 0, tzinfo=UTC))
    ControlledClock(path).set(datetime(2030, 1, 1, tzinfo=UTC))
    # Two writes may land within the file system's timestamp resolution: force a new mtime.
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 1_000_000))
    assert close_to(reader.now(), datetime(2030, 1, 1, tzinfo=UTC))


def test_reset_returns_every_clock_to_real_time(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    reader = ControlledClock(path)
    ControlledClock(path).set(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    assert close_to(reader.now(), datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    ControlledClock(path).reset()
    assert not path.exists()
    assert close_to(reader.now(), SystemClock().now())
    ControlledClock(path).reset()  # resetting twice is harmless


def test_naive_moments_are_refused(tmp_path: Path) -> None:
    clock = ControlledClock(tmp_path / "clock.json")
    with pytest.raises(ValueError, match="time zone"):
        clock.set(datetime(2027, 3, 1, 9, 0))
    assert not (tmp_path / "clock.json").exists()
