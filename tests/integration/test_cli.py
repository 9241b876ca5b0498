"""The ``naervaer`` command as a user runs it: real processes, real ports, a real data folder."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from naervaer.testing.servers import free_port

pytestmark = pytest.mark.integration

NAERVAER = Path(sys.executable).parent / "naervaer"
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("case", "deadline", "notification", "document")
CASE = {
    "employee_id": "emp-1",
    "manager_id": "mgr-1",
    "org_unit": "u1",
    "first_absence_day": "2026-01-05",
}
JWT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n")


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any NAERVAER_* setting that could leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
    return {**env, **extra}


def naervaer(
    *args: str | Path, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """Run one short ``naervaer`` command to completion."""
    return subprocess.run(
        [str(NAERVAER), *map(str, args)],
        env=env or clean_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def mint(*options: str | Path, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> str:
    """``naervaer token`` for an HR user of acme; its stdout must be the token alone."""
    done = naervaer(
        "token", "--tenant", "acme", "--role", "hr", "--sub", "hr-1", *options, env=env, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    assert JWT.fullmatch(done.stdout), f"stdout is not exactly one token: {done.stdout!r}"
    return done.stdout.removesuffix("\n")


@dataclass
class Running:
    """A running ``naervaer up``: its process, ports and the files its output goes to."""

    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    log: Path
    stderr: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def output(self) -> str:
        return self.log.read_text() + self.stderr.read_text()

    def stop(self, timeout_s: float = 20.0) -> int:
        """SIGTERM, as a supervisor stops it; the exit code once it has shut down."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)


@contextlib.contextmanager
def naervaer_up(data_dir: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[Running]:
    """``naervaer up`` on free ports; killed on the way out if a test left it running."""
    ports = {service: free_port() for service in SERVICES}
    port_env = {f"NAERVAER_{s.upper()}_PORT": str(p) for s, p in ports.items()}
    stderr = log.with_suffix(".stderr")
    with log.open("wb") as out, stderr.open("wb") as errors:
        process = subprocess.Popen(
            [str(NAERVAER), "up", "--data-dir", str(data_dir)],
            env={**(env or clean_env()), **port_env},
            # Not the repo: a data folder wrongly defaulting to ./.naervaer must not land there.
            cwd=log.parent,
            stdout=out,
            stderr=errors,
        )
    running = Running(process, ports, log, stderr)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def wait_until_healthy(running: Running, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    pending = set(SERVICES)
    with httpx.Client(timeout=1.0) as client:
        while pending:
            if running.process.poll() is not None:
                raise AssertionError(f"naervaer up exited early:\n{running.output()}")
            for service in sorted(pending):
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{running.url(service)}/healthz").status_code == 200:
                        pending.discard(service)
            if time.monotonic() > deadline:
                raise AssertionError(f"{sorted(pending)} not healthy after {timeout_s}s")
            time.sleep(0.1)


def assert_clean_json_log(running: Running) -> None:
    assert "Traceback" not in running.output()
    lines = [line for line in running.log.read_text().splitlines() if line.strip()]
    assert lines, "naervaer up logged nothing"
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    events = {record["event"] for record in records}
    assert {"service started", "shutting down"} <= events


@dataclass(frozen=True)
class StoppedWithCase:
    data_dir: Path
    case_id: str


@pytest.fixture(scope="module")
def stopped_with_case(tmp_path_factory: pytest.TempPathFactory) -> StoppedWithCase:
    """A data folder where ``naervaer up`` opened one case and was then stopped by SIGTERM."""
    root = tmp_path_factory.mktemp("cli")
    data_dir = root / "data"
    with naervaer_up(data_dir, root / "first-run.log") as running:
        token = mint("--data-dir", data_dir)
        response = httpx.post(
            f"{running.url('case')}/v1/cases",
            json=CASE,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text
        assert running.stop() == 0
    assert_clean_json_log(running)
    # A clean shutdown closed every SQLite connection: no write-ahead log is left behind.
    assert not list(data_dir.glob("*-wal")), sorted(p.name for p in data_dir.iterdir())
    return StoppedWithCase(data_dir, response.json()["case_id"])


def test_up_serves_and_stops_cleanly_on_sigterm(stopped_with_case: StoppedWithCase) -> None:
    assert sorted(p.name for p in stopped_with_case.data_dir.glob("*.db")) == sorted(
        [f"{service}-service.db" for service in SERVICES] + ["keyvault.db"]
    )


def test_state_survives_a_restart_and_env_data_dir_equals_the_option(
    stopped_with_case: StoppedWithCase, tmp_path: Path
) -> None:
    data_dir = stopped_with_case.data_dir
    # Minted through NAERVAER_DATA_DIR, verified by services started with --data-dir.
    token = mint(env=clean_env(NAERVAER_DATA_DIR=str(data_dir)), cwd=tmp_path)
    assert not (tmp_path / ".naervaer").exists()
    with naervaer_up(data_dir, tmp_path / "second-run.log") as running:
        response = httpx.get(
            f"{running.url('case')}/v1/cases/{stopped_with_case.case_id}",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        assert response.json()["employee_id"] == "emp-1"
        assert running.stop() == 0


def test_rebuild_refills_the_deadline_projection(stopped_with_case: StoppedWithCase) -> None:
    db = stopped_with_case.data_dir / "deadline-service.db"
    # Emptied first, so only the rebuild can have put the row back.
    with contextlib.closing(sqlite3.connect(db)) as connection:
        connection.execute("DELETE FROM cases")
        connection.commit()
    done = naervaer("rebuild", "deadline", "--data-dir", stopped_with_case.data_dir)
    assert done.returncode == 0, done.stdout + done.stderr
    with contextlib.closing(sqlite3.connect(db)) as connection:
        rows = connection.execute("SELECT case_id, manager_id FROM cases").fetchall()
    assert rows == [(stopped_with_case.case_id, "mgr-1")]


def test_migrate_creates_the_four_databases(tmp_path: Path) -> None:
    done = naervaer("migrate", "--data-dir", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for service in SERVICES:
        with contextlib.closing(sqlite3.connect(tmp_path / f"{service}-service.db")) as db:
            assert db.execute("SELECT version_num FROM alembic_version").fetchone() is not None


def test_committed_schemas_have_no_drift() -> None:
    done = naervaer("schemas", "--check")
    assert done.returncode == 0, done.stderr


def test_clock_set_moves_what_clock_show_prints(tmp_path: Path) -> None:
    moved = naervaer("clock", "set", "2027-03-01T09:00:00+01:00", "--data-dir", tmp_path)
    assert moved.returncode == 0, moved.stderr
    shown = naervaer("clock", "show", "--data-dir", tmp_path)
    assert shown.returncode == 0, shown.stderr
    now = datetime.fromisoformat(shown.stdout.strip()).astimezone(UTC)
    expected = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert expected <= now < expected + timedelta(minutes=1)
