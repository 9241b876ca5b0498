"""The servers a run uses and the throwaway databases each workload gets on them.

By default the harness starts its own PostgreSQL with fsync on (as production runs it) and,
when a workload needs one, a Tansu Kafka-protocol broker; ``--database-url`` / ``--kafka``
point it at running ones instead. ``--traces`` adds a sink for the services' spans.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
from rich.console import Console
from sqlalchemy.engine import make_url

from bench.collector import SpanSink
from bench.config import Options, Scale, ServiceSettings
from bench.machine import plain_url
from bench.services import Deployment, ServiceProcess
from naervaer.db import normalise_url
from naervaer.testing.servers import LocalKafka, LocalPostgres


@dataclass
class BenchContext:
    """What every workload is handed: sizes, the console, the servers and a scratch folder."""

    scale: Scale
    console: Console
    server_url: str  # postgresql+asyncpg:// URL of the server (its postgres database)
    fsync: bool
    work_dir: Path
    kafka_bootstrap: str | None = None
    spans: SpanSink | None = None  # ``--traces``: where the services export every span
    service_settings: ServiceSettings = ()  # ``--service-setting``: NAERVAER_* for every service
    _broker: LocalKafka | None = None
    _databases: list[str] = field(default_factory=list)

    @property
    def otlp_endpoint(self) -> str | None:
        """Where services export their spans (``--traces``); None: they export nowhere."""
        return None if self.spans is None else self.spans.endpoint

    def deployment(
        self, database_url: str, label: str, *, kafka: str | None, topic_prefix: str
    ) -> Deployment:
        """Where one workload's services run: its database, its folder, its topics, and what
        every workload's services share (the Kafka session timeout, ``--traces``,
        ``--service-setting``)."""
        return Deployment(
            database_url,
            self.work_dir / label,
            kafka=kafka,
            topic_prefix=topic_prefix,
            kafka_session_timeout_ms=self.scale.kafka_session_timeout_ms,
            otlp_endpoint=self.otlp_endpoint,
            settings=self.service_settings,
        )

    def kafka(self) -> str:
        """The broker's bootstrap address, starting the local broker on first use."""
        if self.kafka_bootstrap is None:
            self._broker = LocalKafka()
            self._broker.start()
            self.kafka_bootstrap = self._broker.bootstrap
        return self.kafka_bootstrap

    @property
    def broker_pid(self) -> int | None:
        """The broker the harness started (for its CPU); None when it uses ``--kafka``'s."""
        process = None if self._broker is None else self._broker.process
        return None if process is None else process.pid

    async def fresh_database(self, label: str) -> str:
        """A new empty database for one workload (dropped when the run ends); its URL."""
        name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(plain_url(self.server_url))
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        self._databases.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def say(self, message: str) -> None:
        """Progress for the human watching a long run."""
        self.console.log(message)

    def say_started(self, workload: str, services: list[ServiceProcess]) -> None:
        pids = ", ".join(f"{service.name} pid {service.pid}" for service in services)
        self.say(f"{workload} services up ({pids})")

    async def _drop_databases(self) -> None:
        admin = await asyncpg.connect(plain_url(self.server_url))
        try:
            for name in self._databases:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def bench_context(options: Options, console: Console) -> AsyncIterator[BenchContext]:
    """Start (or connect to) the servers; stop what was started and drop what was created."""
    work_dir = Path(tempfile.mkdtemp(prefix="naervaer-bench-"))
    server: LocalPostgres | None = None
    if options.database_url is None:
        server = LocalPostgres(fsync=True, commit_timestamps=True)
        console.log("starting PostgreSQL (fsync on, commit timestamps on) …")
        server.start()
        url = server.url
    else:
        url = normalise_url(options.database_url)
    context = BenchContext(
        options.scale,
        console,
        url,
        await _fsync_on(url),
        work_dir,
        options.kafka,
        service_settings=options.service_settings,
    )
    try:
        with SpanSink() if options.traces else contextlib.nullcontext() as spans:
            context.spans = spans
            yield context
    finally:
        with contextlib.suppress(Exception):
            await context._drop_databases()
        if context._broker is not None:
            context._broker.stop()
        if server is not None:
            server.destroy()
        shutil.rmtree(work_dir, ignore_errors=True)


async def _fsync_on(url: str) -> bool:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return bool(await connection.fetchval("SHOW fsync") == "on")
    finally:
        await connection.close()
