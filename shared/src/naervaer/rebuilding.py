"""``naervaer rebuild <service>``: replay the producing event store into a service's projections.

A projection whose tenants never read each other's rows (a ``PartitionedProjection``: the
deadline timeline) is rebuilt on PostgreSQL in several processes at once (``processes``, from
``SHARED_FROM`` events and two tenants on): this process resets it, shares the log's tenants
out by their events (``share_out``), runs one ``python -m naervaer.rebuild_share`` for each
share and, once every one has replayed its share, saves the checkpoint at the position they
replayed up to.
One process's Python is a rebuild's bound (issue 8: its process and the database took turns,
1.2 of 2 cores busy); two processes on two cores replayed 29-40 % more events a second at
200 000 events and 39-56 % more at a million. A share that fails stops the others and the
rebuild raises ``ShareFailed``; no checkpoint is saved then, and what the shares claimed stays
claimed, so a rebuild run again, or consumption from the start, is still exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import BinaryIO

import structlog
from pydantic import BaseModel, Field
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import create_engine
from naervaer.eventstore import EventStore
from naervaer.gc_tuning import fewer_collections
from naervaer.hosting import select_services
from naervaer.messaging import Projection, rebuild
from naervaer.messaging.rebuild import (
    PartitionedProjection,
    Share,
    for_rebuild,
    reset_for_rebuild,
    save_rebuilt_checkpoint,
    share_out,
)
from naervaer.migrations import target_for
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services, producer_of
from naervaer.settings import PlatformSettings
from naervaer.topics import TopicLog

logger = structlog.get_logger(__name__)

PARTITIONS = 2
"""Partitions a rebuild replays side by side in one process (``naervaer.messaging.rebuild``):
the process computes one while the database runs the other's statements."""

SHARED_FROM = 50_000
"""The fewest events a rebuild shares out among processes: a process takes about a second to
start (its imports), more than a smaller log's rebuild gains."""

PLANNED_FOR_PARAMETERS = {"plan_cache_mode": "force_custom_plan"}
"""The database settings of the connections a rebuild reads the log and writes the projection
on: every statement planned for its parameters and for the tables as they are, not by a plan
the server cached for the statement.

A rebuild's statements carry a batch's values as arrays, and its tables grow from empty. A
generic plan (one a prepared statement gets after five runs) assumes ten values an array and
stays as it was chosen for the tables when it was made: the timeline's DELETE of a batch's
obligation rows, planned while the table held a few pages, went on comparing each of its rows
with each of the batch's case ids (1 s a run at 200 000 events; issue 8, thirty-fifth round).
The log's read filters by a share's tenants, hundreds or thousands of them
(``producer_engine``). Planning every run costs the server 4 % of its time in a rebuild of
200 000 events, half of it the shares' reads with their arrays of tenants."""

MAX_PROCESSES = 4
"""The most processes a rebuild uses by default (more only when asked: each is a database
connection or more and a share of the database's cores)."""


def default_processes() -> int:
    """The cores this process may run on (its CPU affinity), at most ``MAX_PROCESSES``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_PROCESSES))


class ShareOrder(BaseModel):
    """What one ``naervaer.rebuild_share`` process replays, read from its standard input."""

    # PlatformSettings as JSON: the database's password never on a command line nor in a repr
    platform: str = Field(repr=False)
    service: str
    projection: str
    topic: str  # without prefix
    tenants: dict[str, int]  # each tenant's events up to ``up_to``
    up_to: int
    shares: int
    partitions: int


class ShareFailed(RuntimeError):
    """A share's process ended without replaying its share (its own error is on stderr)."""


async def rebuild_service(
    platform: PlatformSettings,
    key: str,
    partitions: int = PARTITIONS,
    processes: int = 1,
) -> dict[str, int]:
    """Rebuild every projection of service ``key``; returns events applied per projection.
    A projection that can be partitioned is replayed in ``partitions`` side by side, and on
    PostgreSQL shared out among ``processes`` processes (each with ``partitions``).

    Stop the service's consumers first (or run this while it is down): the rebuild resets the
    projection, refills its inbox and moves its checkpoint to the end of the log.
    """
    if processes < 1:
        raise ValueError("processes must be at least 1")
    (spec,) = select_services([key])
    all_specs = discover_services()
    runtime = ServiceRuntime(spec, platform, all_specs, database_settings=PLANNED_FOR_PARAMETERS)
    applied: dict[str, int] = {}
    try:
        with fewer_collections():  # a rebuild makes garbage, hardly any cycles
            for projection in runtime.wiring.projections:
                for topic in spec.consumes:
                    async with _producer_log(runtime, topic) as log:
                        applied[projection.name] = await _replay(
                            runtime, projection, log, topic, partitions, processes
                        )
    finally:
        await runtime.engine.dispose()
        await runtime.vault.dispose()
    return applied


async def replay_share(order: ShareOrder, progress: Callable[[int], None]) -> int:
    """One process's share (``naervaer.rebuild_share``): the events applied."""
    platform = PlatformSettings.model_validate_json(order.platform)
    (spec,) = select_services([order.service])
    runtime = ServiceRuntime(
        spec, platform, discover_services(), database_settings=PLANNED_FOR_PARAMETERS
    )
    try:
        named = [p for p in runtime.wiring.projections if p.name == order.projection]
        if not named:
            raise LookupError(f"{order.service} has no projection {order.projection!r}")
        (projection,) = named
        with fewer_collections():
            async with _producer_log(runtime, order.topic) as log:
                return await rebuild(
                    projection,
                    runtime.engine,
                    runtime.consumer_tables,
                    log,
                    progress=lambda position, _: progress(position),
                    keys=runtime.vault,
                    partitions=order.partitions,
                    share=Share(order.tenants, order.up_to, order.shares),
                )
    finally:
        await runtime.engine.dispose()
        await runtime.vault.dispose()


def producer_engine(platform: PlatformSettings, producer: ServiceSpec) -> AsyncEngine:
    """An engine of its own on ``producer``'s database, for reading its log.

    A share's read filters by its tenants (``= ANY(array)``), hundreds or thousands of them:
    planned for the array in hand PostgreSQL hashes it; a generic plan, which a prepared
    statement gets after five runs, compares each row with every tenant in turn (a 1 000-event
    batch of 494 tenants: 6.7 ms against 0.4 ms and 1.5 ms to plan). So every statement is
    planned for its parameters (``PLANNED_FOR_PARAMETERS``).
    """
    return create_engine(target_for(producer, platform), settings=PLANNED_FOR_PARAMETERS)


@contextlib.asynccontextmanager
async def _producer_log(runtime: ServiceRuntime, topic: str) -> AsyncIterator[TopicLog]:
    """The log of the service that produces ``topic``, on an engine of its own."""
    producer = producer_of(topic, runtime.all_specs)
    assert producer.event_store is not None
    engine = producer_engine(runtime.platform, producer)
    store = EventStore(
        engine,
        producer.event_store,
        source=f"/{producer.name}",
        outbox_topic=None,
        service=producer.name,
    )
    try:
        yield TopicLog(store, topic)
    finally:
        await engine.dispose()


async def _replay(
    runtime: ServiceRuntime,
    projection: Projection,
    log: TopicLog,
    topic: str,
    partitions: int,
    processes: int,
) -> int:
    # SQLite runs one writing transaction at a time: side by side gains nothing
    postgres = runtime.engine.dialect.name == "postgresql"
    await _analysed(log)
    with _progress() as progress:
        task = progress.add_task(projection.name, total=None)

        def advance(done: int, total: int, task: TaskID = task) -> None:
            progress.update(task, completed=done, total=total)

        partitioned = isinstance(for_rebuild(projection), PartitionedProjection)
        if postgres and processes > 1 and partitioned:
            return await _shared_out(
                runtime, projection, log, topic, partitions, processes, advance
            )
        return await _in_process(
            runtime, projection, log, topic, partitions if postgres else 1, advance
        )


async def _analysed(log: TopicLog) -> None:
    """The log's statistics gathered before the rebuild reads it, so that its reads walk the
    log in order (``EventStore.refresh_log_statistics``). A database that refuses (a hot
    standby, a statement timeout) leaves the reads planned as before: slower, not wrong."""
    try:
        await log.store.refresh_log_statistics()
    except DBAPIError as error:
        logger.warning("could not analyse the log before reading it", error=repr(error))


async def _in_process(
    runtime: ServiceRuntime,
    projection: Projection,
    log: TopicLog,
    topic: str,
    partitions: int,
    advance: Callable[[int, int], None],
) -> int:
    return await rebuild(
        projection,
        runtime.engine,
        runtime.consumer_tables,
        log,
        topic=runtime.topic(topic),
        progress=advance,
        keys=runtime.vault,
        partitions=partitions,
    )


async def _shared_out(
    runtime: ServiceRuntime,
    projection: Projection,
    log: TopicLog,
    topic: str,
    partitions: int,
    processes: int,
    advance: Callable[[int, int], None],
) -> int:
    """The rebuild shared out by tenant among ``processes`` processes."""
    up_to = await log.head_position()
    small = up_to < SHARED_FROM
    shares = [] if small else share_out(await log.tenant_counts(up_to), processes, up_to)
    if len(shares) < 2:  # small, or one tenant: one process gains
        return await _in_process(runtime, projection, log, topic, partitions, advance)
    await reset_for_rebuild(projection, runtime.engine, runtime.consumer_tables)
    reached = [0] * len(shares)

    def reaching(i: int) -> Callable[[int], None]:
        def at(position: int) -> None:
            reached[i] = position
            advance(sum(reached) // len(reached), up_to)

        return at

    platform = runtime.platform.model_dump_json()
    orders = [
        ShareOrder(
            platform=platform,
            service=runtime.spec.key,
            projection=projection.name,
            topic=topic,
            tenants=dict(sorted(share.events.items())),
            up_to=up_to,
            shares=share.shares,
            partitions=partitions,
        )
        for share in shares
    ]
    try:
        async with asyncio.TaskGroup() as group:  # one failing cancels (stops) the others
            runs = [group.create_task(run_share(o, reaching(i))) for i, o in enumerate(orders)]
    except* ShareFailed as failed:
        raise failed.exceptions[0] from None  # the first to fail; the others were stopped
    engine, tables = runtime.engine, runtime.consumer_tables
    await save_rebuilt_checkpoint(projection, engine, tables, runtime.topic(topic), up_to)
    return sum(run.result() for run in runs)


async def run_share(order: ShareOrder, progress: Callable[[int], None]) -> int:
    """Replay ``order`` in a process of its own; the events it applied. It reports on a pipe
    of its own (JSON lines: ``position`` as it goes, ``applied`` at the end); its logs and
    errors go where this process's go. Cancelled or failing, it kills the process (which also
    dies with this one: ``naervaer.rebuild_share``)."""
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as reports:
        try:
            share = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "naervaer.rebuild_share",
                str(write_end),
                stdin=asyncio.subprocess.PIPE,
                pass_fds=(write_end,),
            )
        finally:
            os.close(write_end)  # the share's copy stays open: the pipe ends when it does
        try:
            applied = await _replayed(share, order, reports, progress)
            code = await share.wait()
        except Exception as error:
            await _stopped(share)
            raise ShareFailed(f"the rebuild share of {order.projection}: {error!r}") from error
        except BaseException:  # cancelled
            await _stopped(share)
            raise
    if code != 0 or applied is None:
        raise ShareFailed(f"the rebuild share of {order.projection} ended with exit code {code}")
    return applied


async def _replayed(
    share: asyncio.subprocess.Process,
    order: ShareOrder,
    reports: BinaryIO,
    progress: Callable[[int], None],
) -> int | None:
    """Send the order, follow the reports: the events applied (None: never reported)."""
    assert share.stdin is not None
    share.stdin.write(order.model_dump_json().encode())
    await share.stdin.drain()
    share.stdin.close()
    applied = None
    async with contextlib.aclosing(_lines(reports)) as lines:
        async for line in lines:
            report = json.loads(line)
            if "position" in report:
                progress(int(report["position"]))
            else:
                applied = int(report["applied"])
    return applied


async def _stopped(share: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        share.kill()
    await share.wait()


async def _lines(pipe: BinaryIO) -> AsyncGenerator[bytes, None]:
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
    try:
        async for line in reader:
            yield line
    finally:
        transport.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
