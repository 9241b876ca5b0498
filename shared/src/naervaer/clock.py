"""Clocks, injected everywhere time matters (the domain itself never reads a clock).

``SystemClock`` is the real time. ``ControlledClock`` is the development clock control: real time
plus an offset kept in ``<data_dir>/clock.json``, so every service of the embedded default (and
every process sharing the data folder) moves together when ``naervaer clock set`` moves it. It is
never used when ``NAERVAER_ENVIRONMENT=production``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ControlledClock:
    """Real time shifted by an offset read from a file (re-read when the file changes)."""

    path: Path
    _mtime: float | None = field(default=None, init=False)
    _offset: timedelta = field(default=timedelta(0), init=False)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._current_offset()

    def set(self, moment: datetime) -> None:
        """Move the clock so that it reads ``moment`` now (time keeps running from there)."""
        if moment.tzinfo is None:
            raise ValueError("the moment needs a time zone, e.g. 2026-01-05T09:00:00+01:00")
        offset = moment - datetime.now(UTC)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset_s": offset.total_seconds()}))
        os.replace(tmp, self.path)

    def reset(self) -> None:
        self.path.unlink(missing_ok=True)

    def _current_offset(self) -> timedelta:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self._mtime, self._offset = None, timedelta(0)
            return self._offset
        if mtime != self._mtime:
            self._offset = timedelta(seconds=json.loads(self.path.read_text())["offset_s"])
            self._mtime = mtime
        return self._offset
