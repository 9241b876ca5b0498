"""The periodic erasure sweep: every tenant's eligible employees, once per interval.

Erasure is due on a date, not on an event, so a timer looks. It reads the service clock, so
the development clock control moving time forward makes the next sweep erase what is then due;
``wake()`` runs it at once.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from case_service.app.erasure import Eraser

log = structlog.get_logger(__name__)


class ErasureSweeper:
    def __init__(self, eraser: Eraser, *, interval_s: float) -> None:
        self._eraser = eraser
        self._interval_s = interval_s
        self._wake = asyncio.Event()

    @property
    def enabled(self) -> bool:
        return self._interval_s > 0

    def wake(self) -> None:
        """Sweep now instead of at the end of the interval (e.g. after the clock moved)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep, then wait an interval (or a wake-up), until ``stop`` is set."""
        if not self.enabled:
            return
        while not stop.is_set():
            try:
                done = await self._eraser.sweep_all()
                if done:
                    log.info("erasure sweep", erased=len(done))
            except Exception:  # the database may be briefly away: try again next interval
                log.exception("erasure sweep failed")
            await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=self._interval_s, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
        self._wake.clear()
