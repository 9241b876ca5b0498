"""When the deadline timeline reflects an event: a trigger on its inbox NOTIFYs the harness.

The deadline service writes the inbox row (mottakslogg) in the same transaction as the
timeline change, and PostgreSQL delivers a NOTIFY only when that transaction commits, so the
notification marks the moment the projection became visible — without polling. The trigger is
the harness's own, added to the benchmark database after the migrations.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

import asyncpg  # type: ignore[import-untyped]

from bench.machine import plain_url

CHANNEL = "bench_projected"
CONSUMER = "deadline-service.timeline"
TRIGGER = f"""
CREATE OR REPLACE FUNCTION deadline_service.bench_projected() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', NEW.event_id::text);
    RETURN NULL;
END $$;
CREATE TRIGGER bench_projected AFTER INSERT ON deadline_service.inbox
FOR EACH ROW WHEN (NEW.consumer = '{CONSUMER}')
EXECUTE FUNCTION deadline_service.bench_projected();
"""


async def install_trigger(database_url: str) -> None:
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        await connection.execute(TRIGGER)
    finally:
        await connection.close()


class ProjectionWatcher:
    """Listens for projected events; keeps when each arrived (``keep_times``) or counts them."""

    def __init__(self, database_url: str, *, keep_times: bool = True) -> None:
        self._url = plain_url(database_url)
        self._keep_times = keep_times
        self.projected_at: dict[str, float] = {}
        self.count = 0
        self.last_at = 0.0
        self._changed = asyncio.Event()
        self._connection: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._connection = await asyncpg.connect(self._url)
        await self._connection.add_listener(CHANNEL, self._on_notify)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, event_id: str) -> None:
        now = time.perf_counter()
        self.count += 1
        self.last_at = now
        if self._keep_times:
            self.projected_at[event_id] = now
        self._changed.set()

    async def wait_for(self, event_ids: Iterable[str], *, stall_s: float = 30.0) -> int:
        """Wait until every event is projected or nothing new arrived for ``stall_s``;
        returns how many are still missing."""
        wanted = set(event_ids)
        return await self._wait(lambda: len(wanted - self.projected_at.keys()), stall_s)

    async def wait_for_count(self, count: int, *, stall_s: float = 60.0) -> int:
        """Wait until ``count`` events in all were projected (or a stall); returns the shortfall."""
        return await self._wait(lambda: max(0, count - self.count), stall_s)

    async def _wait(self, missing: Callable[[], int], stall_s: float) -> int:
        while (left := missing()) > 0:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=stall_s)
            except TimeoutError:
                return left
        return 0
