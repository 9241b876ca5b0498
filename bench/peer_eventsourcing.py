"""The peer: the ``eventsourcing`` library's PostgreSQL application recorder, default settings.

Built the way an ``Application`` builds it (``PERSISTENCE_MODULE=eventsourcing.postgres`` and
``POSTGRES_*`` variables), so it keeps a gap-free notification log as Nærvær keeps its global
position. The library is synchronous (psycopg 3): each writer is a thread, as an application
server would run it.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    IntegrityError,
    StoredEvent,
)
from eventsourcing.utils import Environment
from sqlalchemy.engine import make_url

from bench.writers import EVENT_TYPE, PAYLOAD_JSON

STATE = PAYLOAD_JSON.encode()
TOPIC = f"bench:{EVENT_TYPE}"


class EventsourcingWriter:
    name = "eventsourcing"

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._factory: InfrastructureFactory[Any] | None = None
        self._recorder: ApplicationRecorder | None = None
        self._threads: ThreadPoolExecutor | None = None

    async def open(self, concurrency: int) -> None:
        url = self._url
        env = Environment(
            "BenchApp",
            {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": str(url.database),
                "POSTGRES_HOST": str(url.host),
                "POSTGRES_PORT": str(url.port or 5432),
                "POSTGRES_USER": str(url.username),
                "POSTGRES_PASSWORD": url.password or "",
                # The one setting changed: as many connections as writers, as the others get.
                "POSTGRES_POOL_SIZE": str(concurrency),
            },
        )
        self._threads = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="es")
        factory: InfrastructureFactory[Any] = await asyncio.to_thread(
            InfrastructureFactory.construct, env
        )
        self._factory = factory
        self._recorder = await asyncio.to_thread(factory.application_recorder)

    async def close(self) -> None:
        if self._factory is not None:
            await asyncio.to_thread(self._factory.close)
        if self._threads is not None:
            self._threads.shutdown(wait=True)
        self._factory = self._recorder = self._threads = None

    async def append_one(self, stream: str) -> int:
        return int(await self._run(self._append_one, uuid.UUID(stream)))

    async def append_batch(self, stream: str, count: int) -> None:
        await self._run(self._append_batch, uuid.UUID(stream), count)

    def _append_one(self, originator: uuid.UUID) -> int:
        recorder = self._opened()
        conflicts = 0
        while True:
            latest = recorder.select_events(originator, desc=True, limit=1)
            version = latest[0].originator_version if latest else 0
            try:
                recorder.insert_events([StoredEvent(originator, version + 1, TOPIC, STATE)])
                return conflicts
            except IntegrityError:
                conflicts += 1

    def _append_batch(self, originator: uuid.UUID, count: int) -> int:
        events = [StoredEvent(originator, v, TOPIC, STATE) for v in range(1, count + 1)]
        self._opened().insert_events(events)
        return 0

    async def _run(self, work: Any, *args: Any) -> Any:
        if self._threads is None:
            raise RuntimeError("writer not opened")
        return await asyncio.get_running_loop().run_in_executor(self._threads, work, *args)

    def _opened(self) -> ApplicationRecorder:
        if self._recorder is None:
            raise RuntimeError("writer not opened")
        return self._recorder
