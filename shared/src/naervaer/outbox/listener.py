"""Wake the relay on PostgreSQL NOTIFY, over a dedicated connection that heals itself."""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import structlog

from naervaer.outbox.backoff import backoff_delay

log = structlog.get_logger(__name__)

APPLICATION_NAME = "naervaer-outbox-listener"
_CONNECTION_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class NotifyListener:
    """LISTEN on ``channel`` and set ``wake`` on every notification (with ``payload`` given:
    on those carrying exactly that payload, e.g. the writer's schema, so services sharing one
    database and channel do not wake each other's relays).

    The connection is outside the engine's pool (a pooled connection would drop LISTEN when
    recycled). On loss it reconnects with backoff and sets ``wake`` once connected again,
    since notifications sent meanwhile are gone; the relay's polling covers the gap.
    """

    def __init__(
        self,
        dsn: str,
        channel: str,
        wake: asyncio.Event,
        *,
        payload: str | None = None,
        heartbeat_s: float = 30.0,
        retry_cap_s: float = 10.0,
    ) -> None:
        self._dsn = dsn
        self._payload = payload
        self._channel = channel
        self._wake = wake
        self._heartbeat_s = heartbeat_s
        self._retry_cap_s = retry_cap_s
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> NotifyListener:
        self._task = asyncio.create_task(self._run(), name="outbox-notify-listener")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                connection = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": APPLICATION_NAME}
                )
            except _CONNECTION_ERRORS as error:
                failures += 1
                log.warning("outbox.listener_connect_failed", error=str(error), attempt=failures)
            else:
                failures = 1  # a lost connection still waits a little before reconnecting
                await self._listen(connection)
            await asyncio.sleep(backoff_delay(failures, base_s=0.2, cap_s=self._retry_cap_s))

    async def _listen(self, connection: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(self._channel, self._notified)
            self._wake.set()  # catch up on whatever was written while not listening
            await self._until_lost(connection, lost)
        except _CONNECTION_ERRORS as error:
            log.warning("outbox.listener_lost", error=str(error))
        finally:
            connection.terminate()

    async def _until_lost(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        while True:
            try:
                await asyncio.wait_for(lost.wait(), self._heartbeat_s)
            except TimeoutError:
                # A silent network failure never closes the socket: probe it now and then.
                await connection.fetchval("SELECT 1", timeout=5)
                continue
            log.warning("outbox.listener_lost", error="connection closed")
            return

    def _notified(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if self._payload is None or payload == self._payload:
            self._wake.set()
