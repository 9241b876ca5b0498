"""``naervaer rebuild <service>``: replay the producing event store into a service's projections."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from naervaer.db import create_engine
from naervaer.eventstore import EventStore
from naervaer.gc_tuning import fewer_collections
from naervaer.hosting import select_services
from naervaer.messaging import Projection, rebuild
from naervaer.migrations import target_for
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services, producer_of
from naervaer.settings import PlatformSettings
from naervaer.topics import TopicLog

PARTITIONS = 2
"""Partitions a rebuild replays side by side (``naervaer.messaging.rebuild``): the process
computes one while the database runs the other's statements."""


async def rebuild_service(
    platform: PlatformSettings, key: str, partitions: int = PARTITIONS
) -> dict[str, int]:
    """Rebuild every projection of service ``key``; returns events applied per projection.
    A projection that can be partitioned is replayed in ``partitions`` side by side.

    Stop the service's consumers first (or run this while it is down): the rebuild resets the
    projection, refills its inbox and moves its checkpoint to the end of the log.
    """
    (spec,) = select_services([key])
    all_specs = discover_services()
    runtime = ServiceRuntime(spec, platform, all_specs)
    applied: dict[str, int] = {}
    try:
        with fewer_collections():  # a rebuild makes garbage, hardly any cycles
            for projection in runtime.wiring.projections:
                for topic in spec.consumes:
                    producer = producer_of(topic, all_specs)
                    applied[projection.name] = await _replay(
                        runtime, projection, producer, topic, partitions
                    )
    finally:
        await runtime.engine.dispose()
        await runtime.vault.dispose()
    return applied


async def _replay(
    runtime: ServiceRuntime,
    projection: Projection,
    producer: ServiceSpec,
    topic: str,
    partitions: int,
) -> int:
    assert producer.event_store is not None
    engine = create_engine(target_for(producer, runtime.platform))
    store = EventStore(
        engine,
        producer.event_store,
        source=f"/{producer.name}",
        outbox_topic=None,
        service=producer.name,
    )
    try:
        with _progress() as progress:
            task = progress.add_task(projection.name, total=None)

            def advance(done: int, total: int, task: TaskID = task) -> None:
                progress.update(task, completed=done, total=total)

            return await rebuild(
                projection,
                runtime.engine,
                runtime.consumer_tables,
                TopicLog(store, topic),
                topic=runtime.topic(topic),
                progress=advance,
                keys=runtime.vault,
                # SQLite runs one writing transaction at a time: side by side gains nothing
                partitions=partitions if runtime.engine.dialect.name == "postgresql" else 1,
            )
    finally:
        await engine.dispose()


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
