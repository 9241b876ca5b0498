"""Services as a deployment runs them: ``naervaer serve <key>`` subprocesses on PostgreSQL.

The harness migrates first (in-process, as the one-shot ``naervaer migrate`` step would) and
starts each service with ``--no-migrate``; peak RSS and CPU time come from /proc. The services
run in production mode (``NAERVAER_ENVIRONMENT=production``: the plain system clock, no dev
routes), with keys the harness makes in the data folder and names to them as a deployment
would: the master key the harness seals with too, and the public half of the key it signs
the load generator's tokens with.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from pydantic_settings import BaseSettings

from bench.config import ServiceSettings
from bench.cpu import process_cpu_s
from naervaer.auth.devkeys import DEV_PUBLIC_KEY_FILE, ensure_dev_key
from naervaer.auth.settings import AuthSettings
from naervaer.hosting import migrate_services, select_services
from naervaer.privacy.vault_setup import DEV_MASTER_KEY, master_key
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings
from naervaer.testing.servers import free_port

NAERVAER = Path(sys.executable).parent / "naervaer"
# What ties the services to the harness (its database, data folder, keys, topics, broker):
# ``--service-setting`` may not move them, nor any service's port or database.
HARNESS_OWNED = frozenset(
    {
        "NAERVAER_DATABASE_URL",
        "NAERVAER_DATA_DIR",
        "NAERVAER_TOPIC_PREFIX",
        "NAERVAER_MASTER_KEY_FILE",
        "NAERVAER_AUTH_PUBLIC_KEY_FILE",
        "NAERVAER_KAFKA_BOOTSTRAP",
    }
)


def service_settings_of(given: Sequence[str]) -> ServiceSettings:
    """``NAERVAER_NAME=VALUE`` strings as (name, value) pairs; ValueError for a string of
    another form, a name no service reads (a typo would be recorded as if applied) or one the
    harness sets itself."""
    known = _setting_names()
    pairs = []
    for setting in given:
        name, equals, value = setting.partition("=")
        if not equals or name not in known:
            raise ValueError(
                f"--service-setting {setting!r}: expected NAERVAER_NAME=VALUE, NAME a setting "
                "the services read"
            )
        if name in HARNESS_OWNED or name.endswith(("_PORT", "_DATABASE_URL")):
            raise ValueError(f"--service-setting {setting!r}: the harness sets {name} itself")
        pairs.append((name, value))
    return tuple(pairs)


def _setting_names() -> frozenset[str]:
    """Every environment variable the services' settings read."""
    models: list[type[BaseSettings]] = [PlatformSettings, AuthSettings]
    models += [spec.settings_cls for spec in discover_services().values()]
    return frozenset(
        str(model.model_config["env_prefix"]) + field.upper()
        for model in models
        for field in model.model_fields
    )


@dataclass(frozen=True)
class Deployment:
    """Where the services of one workload keep their data and talk to each other."""

    database_url: str
    data_dir: Path
    kafka: str | None = None
    topic_prefix: str = "naervaer."
    kafka_session_timeout_ms: int = 10_000
    otlp_endpoint: str | None = None  # export every span there (``--traces``)
    settings: ServiceSettings = ()  # ``--service-setting``: over the harness's own below

    def platform(self) -> PlatformSettings:
        return PlatformSettings(
            database_url=self.database_url,
            data_dir=self.data_dir,
            kafka_bootstrap=self.kafka,
            topic_prefix=self.topic_prefix,
        )

    def environment(self) -> dict[str, str]:
        """The environment of a service process: ours, without any stray NAERVAER_* setting."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
        env.update(
            NAERVAER_DATABASE_URL=self.database_url,
            NAERVAER_DATA_DIR=str(self.data_dir),
            NAERVAER_TOPIC_PREFIX=self.topic_prefix,
            NAERVAER_LOG_LEVEL="WARNING",
            NAERVAER_ENVIRONMENT="production",
            NAERVAER_MASTER_KEY_FILE=str(self.data_dir / DEV_MASTER_KEY),
            NAERVAER_AUTH_PUBLIC_KEY_FILE=str(self.data_dir / DEV_PUBLIC_KEY_FILE),
            NAERVAER_KAFKA_SESSION_TIMEOUT_MS=str(self.kafka_session_timeout_ms),
            # One load generator is one client: the per-client write limit would measure itself.
            NAERVAER_RATE_LIMIT_WRITES_PER_MINUTE="0",
            # The bench's Tansu keeps its log in memory and answers a waiting fetch only when
            # the wait ends: a short wait measures the pipeline, not the broker's timer.
            NAERVAER_KAFKA_FETCH_MAX_WAIT_MS="20",
            # W3 keeps 32 requests in flight: a pool of 10 would open and close the rest's
            # connections on every request.
            NAERVAER_DB_POOL_SIZE="40",
        )
        env.update(self.settings)
        if self.kafka is not None:
            env["NAERVAER_KAFKA_BOOTSTRAP"] = self.kafka
        if self.otlp_endpoint is not None:
            env.update(
                OTEL_EXPORTER_OTLP_ENDPOINT=self.otlp_endpoint,
                OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
                OTEL_TRACES_SAMPLER="parentbased_always_on",
            )
        else:  # the default: a service that exports nowhere records no trace of its own
            for name in (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "OTEL_TRACES_EXPORTER",
                "OTEL_TRACES_SAMPLER",
            ):
                env.pop(name, None)
        return env


async def migrate(deployment: Deployment, keys: Sequence[str]) -> None:
    """Create the services' schemas and tables (``naervaer migrate <key>``), and the keys
    ``Deployment.environment`` names."""
    deployment.data_dir.mkdir(parents=True, exist_ok=True)
    master_key(deployment.platform())  # made in the data folder (the harness is not production)
    ensure_dev_key(deployment.data_dir)  # writes the public half beside it
    await migrate_services(deployment.platform(), select_services(list(keys)))


@dataclass
class ServiceProcess:
    """One ``naervaer serve <key>`` process; its log goes to the deployment's data folder."""

    key: str
    deployment: Deployment
    instance: int = 1  # a replica's number among the processes of one service
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """For ``py-spy record -p <pid>`` while a workload runs."""
        return None if self.process is None else self.process.pid

    @property
    def name(self) -> str:
        """``case``, or ``case-2`` for a second replica."""
        return self.key if self.instance == 1 else f"{self.key}-{self.instance}"

    @property
    def log_path(self) -> Path:
        return self.deployment.data_dir / f"{self.name}.log"

    def start(self) -> None:
        env = self.deployment.environment()
        env[f"NAERVAER_{self.key.upper()}_PORT"] = str(self.port)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(NAERVAER), "serve", self.key, "--no-migrate"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Poll ``/readyz`` until it answers 200 (database up, background tasks alive)."""
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} service not ready after {timeout_s}s:\n{self.log_tail()}")

    def peak_rss_mib(self) -> float | None:
        """The process's peak resident set (VmHWM), in MiB; None once it has exited."""
        value = self._status_field("VmHWM")
        return round(int(value.split()[0]) / 1024, 1) if value else None

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the process has used so far."""
        spent = None if self.process is None else process_cpu_s(self.process.pid)
        return None if spent is None else round(spent, 2)

    def terminate(self) -> None:
        """Ask for a clean shutdown (SIGTERM); ``stop`` waits for it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL if it takes longer than ``timeout_s``."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _check_alive(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"{self.name} service exited:\n{self.log_tail()}")

    def _status_field(self, name: str) -> str | None:
        if self.process is None:
            return None
        try:
            text = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(f"{name}:"):
                return line.split(":", 1)[1].strip()
        return None


async def start_services(
    deployment: Deployment, keys: Sequence[str], *, replicas: int = 1
) -> list[ServiceProcess]:
    """Start the services side by side, ``replicas`` processes of each (on ports of their
    own, sharing the database and the broker), and wait until every one is ready."""
    services = [
        ServiceProcess(key, deployment, instance)
        for key in keys
        for instance in range(1, replicas + 1)
    ]
    try:
        for service in services:
            service.start()
        await asyncio.gather(*(service.wait_ready() for service in services))
    except BaseException:
        stop_services(services)
        raise
    return services


def stop_services(services: Sequence[ServiceProcess]) -> None:
    """Stop them side by side: each shuts down cleanly while the others do."""
    for service in services:
        service.terminate()
    for service in services:
        service.stop()
