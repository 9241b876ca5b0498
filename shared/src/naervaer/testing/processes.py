"""The services as separate operating-system processes, as a deployment runs them.

``ServiceProcesses`` runs ``naervaer migrate`` once, then ``naervaer serve <key> --no-migrate``
per service on PostgreSQL and Kafka, each on a free port, with its stdout and stderr in a log
file of its own. Each service can be stopped gracefully (SIGTERM), killed (SIGKILL) and
restarted on the same port, which is what fault-injection tests need::

    config = ProcessConfig(database_url, kafka_bootstrap, data_dir, env=QUICK_TIMINGS)
    async with ServiceProcesses(config) as system:
        urls = system.base_urls            # {"case": "http://127.0.0.1:…", …}
        system.kill("deadline")
        await system.start("deadline")    # waits for /readyz
    # every process still running is SIGKILLed on the way out, even after a failure
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from naervaer.testing.servers import free_port

SERVICE_KEYS = ("case", "deadline", "notification", "document")
NAERVAER = Path(sys.executable).parent / "naervaer"
QUICK_TIMINGS: Mapping[str, str] = {
    "NAERVAER_KAFKA_SESSION_TIMEOUT_MS": "3000",  # a group's first join takes about half
    "NAERVAER_KAFKA_PARTITIONS": "3",
    "NAERVAER_OUTBOX_POLL_INTERVAL_S": "0.2",
    "NAERVAER_DEADLINE_SCHEDULER_POLL_INTERVAL_S": "0.05",
    "NAERVAER_NOTIFICATION_WORKER_POLL_INTERVAL_S": "0.05",
}
"""Settings that make the services react within a test's patience (merge into ``env``)."""


@dataclass(frozen=True)
class ProcessConfig:
    """Where the services run: shared PostgreSQL, Kafka and data folder (dev key, clock)."""

    database_url: str
    kafka_bootstrap: str
    data_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    """Extra environment for every process (``NAERVAER_*``, ``OTEL_*`` …); wins over ours."""
    keys: Sequence[str] = SERVICE_KEYS
    log_dir: Path | None = None
    """Where the ``<key>.log`` files go; default ``<data_dir>/logs``."""
    ready_timeout_s: float = 60.0
    stop_timeout_s: float = 20.0

    @property
    def logs(self) -> Path:
        return self.log_dir or self.data_dir / "logs"

    def environment(self) -> dict[str, str]:
        """The processes' environment: ours, never a ``NAERVAER_*`` leaking in from the caller."""
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
        platform = {
            "NAERVAER_DATABASE_URL": self.database_url,
            "NAERVAER_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "NAERVAER_DATA_DIR": str(self.data_dir),
            "NAERVAER_HOST": "127.0.0.1",
        }
        return {**inherited, **platform, **self.env}


class ServiceProcess:
    """One ``naervaer serve <key> --no-migrate`` process; its port survives restarts."""

    def __init__(self, key: str, port: int, log: Path) -> None:
        self.key = key
        self.port = port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def spawn(self, env: Mapping[str, str], cwd: Path) -> None:
        """Start the process; its output is appended to ``log``, so restarts keep history."""
        if self.running:
            raise RuntimeError(f"{self.key} is already running")
        port_env = {f"NAERVAER_{self.key.upper()}_PORT": str(self.port)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(NAERVAER), "serve", self.key, "--no-migrate"],
                env={**env, **port_env},
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def signal(self, signum: signal.Signals) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    async def wait(self, timeout_s: float) -> int | None:
        """The exit code once the process has ended, or None after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.process is not None and time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                return code
            await asyncio.sleep(0.05)
        return None if self.process is None else self.process.poll()

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would; returns once the process is gone."""
        self.signal(signal.SIGKILL)
        self.reap()

    def reap(self) -> None:
        """Wait for a process that was sent SIGKILL (never long: it cannot refuse)."""
        if self.process is not None:
            self.process.wait(timeout=10)

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log."""
        if not self.log.exists():
            return "(no log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


class ServiceProcesses:
    """The services of ``config`` as separate processes (``async with`` starts and kills)."""

    def __init__(self, config: ProcessConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)  # the processes' working directory
        config.logs.mkdir(parents=True, exist_ok=True)
        self.services = {
            key: ServiceProcess(key, free_port(), config.logs / f"{key}.log") for key in config.keys
        }
        self._env = config.environment()

    @property
    def base_urls(self) -> dict[str, str]:
        """``{"case": "http://127.0.0.1:<port>", …}``, e.g. for ``Endpoints.over_http``."""
        return {key: service.url for key, service in self.services.items()}

    @property
    def logs(self) -> dict[str, Path]:
        """Each service's log file (all its runs, one after the other)."""
        return {key: service.log for key, service in self.services.items()}

    async def __aenter__(self) -> Self:
        try:
            await self.migrate()
            await self.start(*self.services)
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    async def migrate(self) -> None:
        """``naervaer migrate``: every service's schema, once, before any service starts."""
        log = self.config.logs / "migrate.log"
        with log.open("ab") as out:
            process = await asyncio.create_subprocess_exec(
                str(NAERVAER),
                "migrate",
                env=self._env,
                cwd=self.config.data_dir,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                code = await asyncio.wait_for(process.wait(), timeout=self.config.ready_timeout_s)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
        if code != 0:
            raise RuntimeError(f"naervaer migrate failed ({code}):\n{log.read_text()[-4000:]}")

    async def start(self, *keys: str) -> None:
        """Start the services ``keys`` and wait until each answers ``/readyz`` with 200."""
        for key in keys:
            self.services[key].spawn(self._env, self.config.data_dir)
        await asyncio.gather(*(self.wait_ready(key) for key in keys))

    async def wait_ready(self, key: str) -> None:
        """Poll ``/readyz`` (database and every background task) until 200, or fail with the
        log's tail, also as soon as the process exits."""
        service = self.services[key]
        deadline = time.monotonic() + self.config.ready_timeout_s
        async with httpx.AsyncClient(base_url=service.url, timeout=2.0) as client:
            while True:
                if not service.running:
                    raise RuntimeError(f"{key} exited while starting:\n{service.tail()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{key} not ready in time:\n{service.tail()}")
                await asyncio.sleep(0.1)

    async def stop(self, key: str) -> int:
        """SIGTERM, as a supervisor stops a service; its exit code once it has shut down.

        A service that does not stop within ``stop_timeout_s`` is killed and TimeoutError raised.
        """
        service = self.services[key]
        service.signal(signal.SIGTERM)
        code = await service.wait(self.config.stop_timeout_s)
        if code is None:
            service.kill()
            raise TimeoutError(f"{key} ignored SIGTERM:\n{service.tail()}")
        return code

    def kill(self, key: str) -> None:
        """SIGKILL the service: no shutdown, nothing flushed, as in a crash."""
        self.services[key].kill()

    async def restart(self, key: str) -> int:
        """Stop (SIGTERM) and start the service again on the same port; the stop's exit code."""
        code = await self.stop(key)
        await self.start(key)
        return code

    def close(self) -> None:
        """SIGKILL every process still running (for ``finally``: never leaves one behind)."""
        # Every signal first, then the waits: one slow reap must not spare the others.
        for service in self.services.values():
            service.signal(signal.SIGKILL)
        for service in self.services.values():
            service.reap()

    def tails(self, lines: int = 40) -> str:
        """The end of every service's log, for a failing test's report."""
        return "\n".join(
            f"----- {key} ({service.log}) -----\n{service.tail(lines)}"
            for key, service in self.services.items()
        )
