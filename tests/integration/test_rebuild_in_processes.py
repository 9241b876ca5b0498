"""``naervaer rebuild`` shared out among processes on PostgreSQL: each process replays some
tenants' events, and together they leave what one process leaves."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.event import listen
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

import naervaer.rebuilding
from bench.appender import CaseLog
from bench.services import Deployment, migrate
from bench.w5_rebuild import calendar_steps, fill
from naervaer.eventstore import EventStore
from naervaer.rebuilding import (
    ShareFailed,
    ShareOrder,
    rebuild_service,
    replay_share,
    run_share,
)
from naervaer.runtime import ServiceRuntime
from naervaer.settings import PlatformSettings

pytestmark = pytest.mark.integration

EVENTS = 3_000  # a calendar-ordered log: cases interleaved, tenants of Zipf-like sizes


class _Scale:
    writers = 4


class _Context:
    scale = _Scale()


def _timeline_share(platform: PlatformSettings, up_to: int, tenants: int) -> ShareOrder:
    """One share of the deadline timeline's rebuild: the first ``tenants`` employers' events
    up to ``up_to``, in one partition."""
    return ShareOrder(
        platform=platform.model_dump_json(),
        service="deadline",
        projection="deadline-service.timeline",
        topic="case-events",
        tenants={f"employer-{i:04d}": 1 for i in range(tenants)},
        up_to=up_to,
        shares=1,
        partitions=1,
    )


async def timeline(database_url: str) -> dict[str, Any]:
    """Every row the deadline service's rebuild writes (the inbox's event ids, not when)."""
    url = make_url(database_url).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SET search_path TO deadline_service")
        tables = ["cases", "case_events", "obligations", "timers", "checkpoints"]
        found = {
            t: sorted(map(tuple, await connection.fetch(f"SELECT * FROM {t}"))) for t in tables
        }
        inbox = await connection.fetch("SELECT consumer, event_id FROM inbox")
        found["inbox"] = sorted(map(tuple, inbox))
        return found
    finally:
        await connection.close()


async def test_a_rebuild_in_two_processes_leaves_what_one_process_leaves(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    events = await fill(_Context(), deployment, EVENTS, "calendar")  # type: ignore[arg-type]
    platform = deployment.platform()

    alone = await rebuild_service(platform, "deadline", processes=1)
    by_one = await timeline(fresh_database)
    orders: list[ShareOrder] = []

    async def counted(order: ShareOrder, progress: Any) -> int:
        orders.append(order)
        return await run_share(order, progress)

    monkeypatch.setattr(naervaer.rebuilding, "SHARED_FROM", 0)  # a log this small too
    monkeypatch.setattr(naervaer.rebuilding, "run_share", counted)
    shared = await rebuild_service(platform, "deadline", processes=2)

    assert shared == alone
    assert sum(alone.values()) > EVENTS // 2  # most events are the timeline's
    assert len(orders) == 2  # two processes, some tenants each
    assert not set(orders[0].tenants) & set(orders[1].tenants)
    assert {order.up_to for order in orders} == {events}
    assert await timeline(fresh_database) == by_one
    assert len(by_one["obligations"]) > 0


@pytest.mark.parametrize("tenants", ["one", "all"])
async def test_one_tenant_or_a_small_log_is_rebuilt_in_one_process(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tenants: str
) -> None:
    """A process's start (~1 s) gains nothing where one process would hold every share: a
    log of one tenant, or one below ``SHARED_FROM`` events. Rebuilt in this process, it
    leaves its checkpoint after every batch, as a rebuild in one process does."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    if tenants == "all":
        events = await fill(_Context(), deployment, EVENTS, "calendar")  # type: ignore[arg-type]
    else:
        monkeypatch.setattr(naervaer.rebuilding, "SHARED_FROM", 0)
        log, events = CaseLog.open(fresh_database, None, pool_size=1), 0
        try:
            for step in calendar_steps(EVENTS):
                if step.tale.tenant == "employer-0000":
                    await log.append(step.tale, step.events)
                    events += len(step.events)
        finally:
            await log.close()
    shared: list[ShareOrder] = []

    async def counted(order: ShareOrder, progress: Any) -> int:
        shared.append(order)
        return await run_share(order, progress)

    monkeypatch.setattr(naervaer.rebuilding, "run_share", counted)
    applied = await rebuild_service(deployment.platform(), "deadline", processes=2)

    assert sum(applied.values()) > 0
    assert shared == []
    rebuilt = await timeline(fresh_database)
    assert len(rebuilt["obligations"]) > 0
    assert [position for _, _, position in rebuilt["checkpoints"]] == [events]  # the log's end


async def test_a_share_that_fails_raises_with_its_exit_code(
    fresh_database: str, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    order = ShareOrder(
        platform=deployment.platform().model_dump_json(),
        service="deadline",
        projection="no-such-projection",
        topic="case-events",
        tenants={"employer-0000": 1},
        up_to=10,
        shares=1,
        partitions=1,
    )

    with pytest.raises(ShareFailed, match="exit code 1"):
        await run_share(order, lambda position: None)
    assert fresh_database.split("@")[0] not in repr(order)  # no platform, no password
    _, stderr = capfd.readouterr()
    assert "has no projection 'no-such-projection'" in stderr  # the share's own error


async def test_a_cancelled_share_is_killed_and_waited_for(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C, or another share failing: the share's process does not go on writing."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    events = await fill(_Context(), deployment, EVENTS, "calendar")  # type: ignore[arg-type]
    started: list[asyncio.subprocess.Process] = []
    spawn = asyncio.create_subprocess_exec

    async def spawned(*args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        started.append(await spawn(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spawned)
    order = _timeline_share(deployment.platform(), events, tenants=100)
    first_batch = asyncio.Event()
    share = asyncio.create_task(run_share(order, lambda position: first_batch.set()))
    await first_batch.wait()  # it is replaying
    share.cancel()

    with pytest.raises(asyncio.CancelledError):
        await share
    (process,) = started
    assert process.returncode == -signal.SIGKILL  # killed, and waited for (no zombie)


def _spied_log_engines(monkeypatch: pytest.MonkeyPatch) -> tuple[list[AsyncEngine], list[str]]:
    """The engines a rebuild reads the producer's log on, and the statements run on them."""
    made: list[AsyncEngine] = []
    read: list[str] = []
    make = naervaer.rebuilding.producer_engine

    def spied(platform: Any, producer: Any) -> AsyncEngine:
        made.append(make(platform, producer))
        listen(made[-1].sync_engine, "before_cursor_execute", lambda *a: read.append(a[2]))
        return made[-1]

    monkeypatch.setattr(naervaer.rebuilding, "producer_engine", spied)
    return made, read


async def test_the_rebuilds_statements_are_planned_for_their_parameters(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A share's read filters by hundreds of tenants, and a rebuild's writes carry a batch's
    case ids, into tables that grow from empty: a generic plan would compare each row with
    each of them in turn, and stay as it was chosen for the tables when it was made. So the
    producer's log is read on an engine of its own, and the projection written on one of the
    rebuild's own, whose sessions plan every statement for its parameters: in a rebuild in
    this process and in a share's."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    events = await fill(_Context(), deployment, 300, "calendar")  # type: ignore[arg-type]
    platform = deployment.platform()
    made, read = _spied_log_engines(monkeypatch)
    runtimes: list[ServiceRuntime] = []

    class Spied(ServiceRuntime):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            runtimes.append(self)

    monkeypatch.setattr(naervaer.rebuilding, "ServiceRuntime", Spied)
    order = _timeline_share(platform, events, tenants=1_000)
    shared = await replay_share(order, lambda position: None)  # on the empty timeline
    applied = await rebuild_service(platform, "deadline", processes=1)

    assert sum(applied.values()) > 0
    assert shared > 0
    assert len(made) == 2  # one for the share, one for the rebuild
    assert len(runtimes) == 2  # the projection's writes: likewise
    log_reads = [statement for statement in read if "FROM events" in statement]
    assert any("tenant = ANY" in statement for statement in log_reads), read  # the share's
    assert any("tenant = ANY" not in statement for statement in log_reads), read  # the rebuild's
    for engine in [*made, *(runtime.engine for runtime in runtimes)]:
        assert await _plan_cache_mode(engine) == "force_custom_plan"
    serving = ServiceRuntime(runtimes[0].spec, platform, runtimes[0].all_specs)
    assert await _plan_cache_mode(serving.engine) == "auto"  # a service as it serves: untouched


async def _plan_cache_mode(engine: AsyncEngine) -> str:
    try:
        async with engine.connect() as connection:
            return str(await connection.scalar(text("SHOW plan_cache_mode")))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("processes", [1, 2])
async def test_the_rebuild_analyses_the_log_before_it_reads_it(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    """A log filled faster than autovacuum analyses it (here: just now) would be planned for
    as empty, and each read of a share scanned it to the end (issue 8, thirty-fifth round).
    The rebuild analyses it once, before its first read, in one process or shared out."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    await fill(_Context(), deployment, EVENTS, "calendar")  # type: ignore[arg-type]
    monkeypatch.setattr(naervaer.rebuilding, "SHARED_FROM", 0)  # a log this small too
    _, read = _spied_log_engines(monkeypatch)

    await rebuild_service(deployment.platform(), "deadline", processes=processes)

    analyses = [i for i, statement in enumerate(read) if statement.startswith("ANALYZE")]
    first_read = next(i for i, statement in enumerate(read) if "FROM events" in statement)
    assert len(analyses) == 1
    assert analyses[0] < first_read
    url = make_url(fresh_database).set(drivername="postgresql").render_as_string(False)
    connection = await asyncpg.connect(url)
    try:
        analysed = await connection.fetchval(  # by hand, not by autovacuum
            "SELECT analyze_count FROM pg_stat_user_tables"
            " WHERE schemaname = 'case_service' AND relname = 'events'"
        )
    finally:
        await connection.close()
    assert analysed == 1


async def test_a_database_that_will_not_analyse_the_log_still_gets_its_rebuild(
    fresh_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hot standby refuses ANALYZE, and a statement timeout can end one on a large log:
    the reads are then planned as before, slower, and the rebuild goes on."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case", "deadline"])
    events = await fill(_Context(), deployment, 300, "calendar")  # type: ignore[arg-type]

    async def refused(self: EventStore) -> None:
        error = asyncpg.ReadOnlySQLTransactionError("cannot execute ANALYZE during recovery")
        raise DBAPIError("ANALYZE", None, error)

    monkeypatch.setattr(EventStore, "refresh_log_statistics", refused)
    applied = await rebuild_service(deployment.platform(), "deadline", processes=1)

    assert sum(applied.values()) > 0
    rebuilt = await timeline(fresh_database)
    assert [position for _, _, position in rebuilt["checkpoints"]] == [events]
