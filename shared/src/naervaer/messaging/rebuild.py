"""Rebuild a projection from scratch by replaying the producing service's whole log.

The result is the state live consumption would have reached: the same rows, the same inbox
rows (so later Kafka redeliveries count as duplicates) and, for the embedded transport, the
checkpoint at the last replayed position.

A projection may also offer ``handle_batch`` (``BatchProjection``): the rebuild then hands it
each fetched batch's wanted events at once, in log order, so it can fold each case once per
batch instead of once per event. It may also offer ``for_rebuild`` (``RebuildVariant``): the
rebuild then replays into the projection that returns, the same read model without what only
live consumption gains from (a cache of what later batches read again, say).

A batch projection may also carry work over to later batches (``CarryingProjection``): in a
log in calendar order a case's events lie far apart, and folding a case once per batch that
holds one of its events folds it again for nearly every event. Such a projection reports the
events it has handled but whose effects it has not written yet (``carried``); the rebuild
claims those in the inbox only once they are written, keeps the checkpoint before the oldest
of them, and lets the projection write what it still carries at the end, a transaction at a
time (``write_carried``, until nothing is carried). So a rebuild that stops half-way still
leaves every claimed event applied, and consumption that continues from its checkpoint
handles the rest again.

A projection may also split its events into partitions that never read each other's rows
(``PartitionedProjection``: the deadline timeline's tenants, say). With ``partitions`` above
one the rebuild then applies each batch's partitions side by side, each into its own instance
of the projection on its own connection and transaction: one process computes one partition
while the server runs another's statements, instead of the two taking turns. The checkpoint
is saved after them, in a transaction of its own, before the oldest event any partition still
carries; a rebuild that stops between a partition's commit and the checkpoint leaves that
partition's events claimed, so consumption resuming from the older checkpoint skips them.

A rebuild can also be shared out among processes (``naervaer.rebuilding``): each replays the
events of some tenants up to one position (``Share``, ``share_out``), after one reset
(``reset_for_rebuild``), and the checkpoint is saved once all of them are done
(``save_rebuilt_checkpoint``). Until then none is saved: consumption would resume from the
log's start, every claimed event a duplicate.

Statistics: a rebuild fills the projection's tables from empty far faster than autovacuum
looks at them; they are analysed as they grow (``naervaer.db.GrowingTables``: beside the
replay, which does not wait for it, and over before the rebuild returns), counted by the
events whose rows are written: a carried event when its rows are, not when it is handled (a
calendar-ordered log's replay writes most of its rows at the end, after every event was
handled; counted when handled, the tables were analysed while nearly empty and the statements
planned for them so until the end, issue 8).

Tracing: a rebuild replays the whole log, so a span per SQL statement (the SQLAlchemy
instrumentation's) would be millions of spans and cost a tenth of the replay's time. Each
batch gets one span (``rebuild batch``) and the statements inside it run with
instrumentation suppressed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import zlib
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable
from uuid import UUID

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Tracer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.db import GrowingTables
from naervaer.envelope import Envelope
from naervaer.messaging import inbox
from naervaer.messaging.embedded_source import EventLog
from naervaer.messaging.tables import ConsumerTables
from naervaer.privacy.keyring import KEYRING, KeySource

Progress = Callable[[int, int], None]
"""Called after each batch with (position reached, head position at the start)."""


class Projection(Protocol):
    """A read model kept up to date by one subscription (``name`` is that consumer's name)."""

    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> frozenset[str] | None: ...

    async def reset(self, tx: AsyncConnection) -> None:
        """Delete every row of the projection."""
        ...

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None: ...


@runtime_checkable
class BatchProjection(Projection, Protocol):
    """A projection that can apply many events in one call (optional; used by ``rebuild``).

    ``handle_batch`` must leave exactly the rows that ``handle`` per envelope, in the given
    order, would have left."""

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None: ...


@runtime_checkable
class RebuildVariant(Projection, Protocol):
    """A projection that replays into another instance of itself (optional; used by
    ``rebuild``).

    ``for_rebuild`` returns a projection of the same ``name``, tables and rows, configured for
    a replay: e.g. without a cache kept across batches, which a rebuild (each case folded about
    once) would only fill."""

    def for_rebuild(self) -> Projection: ...


_COMPACTED_AT = 1_024  # released entries the heap may hold beyond those held


class CarriedEvents:
    """The events a carrying projection has handled but not written the effects of yet, by
    id with their global position, and those written since the rebuild last asked."""

    def __init__(self) -> None:
        self._held: dict[UUID, int] = {}
        self._released: list[UUID] = []
        # the held events by position, oldest first (a heap; released ones dropped when met,
        # or all at once when they outnumber the held: one long-held event would otherwise
        # keep every event held after it in memory)
        self._oldest: list[tuple[int, UUID]] = []

    def hold(self, events: Iterable[tuple[UUID, int]]) -> None:
        """Carried over to a later batch: ``(event id, global position)`` pairs."""
        for event_id, position in events:
            self._held[event_id] = position
            heapq.heappush(self._oldest, (position, event_id))

    def release(self, event_ids: Iterable[UUID]) -> None:
        """Their effects are written (in the transaction of the current batch)."""
        for event_id in event_ids:
            if self._held.pop(event_id, None) is not None:
                self._released.append(event_id)
        if len(self._oldest) > 2 * len(self._held) + _COMPACTED_AT:
            self._oldest = [(p, e) for p, e in self._oldest if e in self._held]
            heapq.heapify(self._oldest)

    def holds(self, event_id: UUID) -> bool:
        return event_id in self._held

    def __len__(self) -> int:
        return len(self._held)

    def take_released(self) -> list[UUID]:
        """The events held in earlier batches and written since the last call."""
        released, self._released = self._released, []
        return released

    def checkpoint(self, reached: int) -> int:
        """Where consumption may resume: before the oldest event still carried."""
        while self._oldest and self._oldest[0][1] not in self._held:
            heapq.heappop(self._oldest)
        return self._oldest[0][0] - 1 if self._oldest else reached


@runtime_checkable
class CarryingProjection(BatchProjection, Protocol):
    """A batch projection whose ``handle_batch`` may put off writing some events' effects to
    a later batch (optional; used by ``rebuild``). ``carried`` says which; ``write_carried``
    writes some of them (a transaction's worth, the longest carried first). With the batches
    and the ``write_carried`` calls until nothing is carried, the rows are those ``handle``
    per envelope would have left."""

    @property
    def carried(self) -> CarriedEvents: ...

    async def write_carried(self, tx: AsyncConnection) -> None: ...


@runtime_checkable
class PartitionedProjection(Projection, Protocol):
    """A projection whose events fall into partitions that never read or write each other's
    rows (optional; used by ``rebuild`` with ``partitions`` above one). A rebuild shared out
    among processes gives each some tenants (``Share``), so a partition's events must all be
    of one tenant: the key is the tenant, or finer."""

    def partition_key(self, envelope: Envelope) -> str:
        """What the event's partition is chosen by (events of one key stay in one)."""
        ...

    def for_partition(self, partitions: int) -> Projection:
        """A new instance of the projection (the same ``name`` and tables) for one of
        ``partitions`` partitions of a rebuild (its share of what the rebuild may hold)."""
        ...


@dataclass(frozen=True)
class Share:
    """One process's part of a rebuild shared out among several (``naervaer.rebuilding``):
    the events of some tenants up to global position ``up_to`` (``events``: how many each
    has there), one of ``shares``. The process
    that shares it out resets the projection before (``reset_for_rebuild``) and saves the
    checkpoint once every share is replayed (``save_rebuilt_checkpoint``); a share does
    neither. A share's partitions are ``for_partition`` of all the shares' partitions: what
    the projection may hold in memory is divided among them all, not had by each process."""

    events: Mapping[str, int] = field(hash=False)
    up_to: int
    shares: int = 1

    @property
    def tenants(self) -> frozenset[str]:
        return frozenset(self.events)

    def placed(self, partitions: int) -> dict[str, int]:
        """Each tenant's partition among ``partitions``, balanced by events (``balanced``)."""
        return {t: i for i, part in enumerate(balanced(self.events, partitions)) for t in part}


@runtime_checkable
class SharedLog(EventLog, Protocol):
    """A log a rebuild can share out by tenant (``naervaer.topics.TopicLog``)."""

    async def read_all(
        self,
        after_position: int,
        limit: int,
        /,
        *,
        tenants: Collection[str] | None = None,
        up_to: int | None = None,
    ) -> list[Envelope]: ...

    async def tenant_counts(self, up_to: int) -> dict[str, int]: ...


def share_out(counts: Mapping[str, int], processes: int, up_to: int) -> list[Share]:
    """The log's tenants (``counts``: their events) in at most ``processes`` shares of about
    equal events (``balanced``). A tenant's events stay in one share, so a projection shared
    out must keep each tenant's rows apart from every other's (a ``PartitionedProjection``
    keyed by tenant)."""
    if processes < 1:
        raise ValueError("processes must be at least 1")
    shares = [share for share in balanced(counts, processes) if share]
    return [
        Share({tenant: counts[tenant] for tenant in share}, up_to, len(shares)) for share in shares
    ]


def balanced(counts: Mapping[str, int], bins: int) -> list[frozenset[str]]:
    """The keys of ``counts`` in ``bins`` sets of about equal counts: the largest first, each
    to the set with the fewest so far (some sets stay empty when there are fewer keys)."""
    loads = [(0, i) for i in range(bins)]  # (count, set), a heap
    keys: list[set[str]] = [set() for _ in range(bins)]
    for key, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        total, i = heapq.heappop(loads)
        keys[i].add(key)
        heapq.heappush(loads, (total + count, i))
    return [frozenset(part) for part in keys]


async def reset_for_rebuild(
    projection: Projection, engine: AsyncEngine, tables: ConsumerTables
) -> None:
    """A rebuild's first step: the projection's rows, inbox rows and checkpoints deleted."""
    await _reset(for_rebuild(projection), engine, tables)


async def _reset(projection: Projection, engine: AsyncEngine, tables: ConsumerTables) -> None:
    async with _transaction(engine) as tx:
        await projection.reset(tx)
        await inbox.forget_consumer(tx, tables, projection.name)


async def save_rebuilt_checkpoint(
    projection: Projection, engine: AsyncEngine, tables: ConsumerTables, topic: str, up_to: int
) -> None:
    """A rebuild shared out, every share replayed up to ``up_to``: consumption resumes after
    it (a share carries nothing once it returns). A rebuild in one process saves the position
    of the last event its topic carries instead; the two differ only by events of another
    topic (access records), which consumption of this one skips either way."""
    async with _transaction(engine) as tx:
        await inbox.save_checkpoint(tx, tables, projection.name, topic, up_to)


def for_rebuild(projection: Projection) -> Projection:
    """The projection a rebuild replays ``projection``'s log into (itself unless it offers a
    ``RebuildVariant``)."""
    if not isinstance(projection, RebuildVariant):
        return projection
    variant = projection.for_rebuild()
    if variant.name != projection.name:  # its inbox rows and checkpoint are the consumer's
        raise ValueError(f"{projection.name!r} rebuilds as {variant.name!r}: the names differ")
    return variant


async def rebuild(
    projection: Projection,
    engine: AsyncEngine,
    tables: ConsumerTables,
    source_store: EventLog,
    *,
    batch_size: int = 1000,
    progress: Progress | None = None,
    topic: str | None = None,
    keys: KeySource | None = None,
    tracer: Tracer | None = None,
    partitions: int = 1,
    share: Share | None = None,
) -> int:
    """Replay ``source_store`` into ``projection``; returns the number of events applied.

    ``topic`` names the embedded checkpoint to set (the topic the store's events travel on);
    without it the consumer's checkpoints are only cleared, which is still correct since the
    inbox turns the re-read into duplicates. Stop the projection's consumer while this runs.
    A ``RebuildVariant`` replays into ``projection.for_rebuild()``; a ``PartitionedProjection``
    with ``partitions`` above one into that many instances side by side (``for_partition``).
    ``tracer`` (default: the global provider's) records one span per batch. With a ``share``
    (``source_store`` a ``SharedLog``) only its tenants' events up to its position are
    replayed, in at most as many partitions as it has tenants, and neither the reset nor the
    checkpoint is made (``Share``).
    """
    spans = tracer or trace.get_tracer(__name__)
    projection = for_rebuild(projection)
    if share is not None:
        if not isinstance(projection, PartitionedProjection):
            raise TypeError(f"{projection.name!r} is not partitioned: it cannot be shared")
        partitions = min(partitions, len(share.tenants))  # a partition of no tenant would idle
    parts = _partitions(projection, partitions, share.shares if share else 1)
    # A share knows its tenants: they are placed in its partitions balanced by their events
    # (a hash of a few tenants could leave a partition without any).
    placed = share.placed(len(parts)) if share is not None and len(parts) > 1 else None
    read = _reader(source_store, batch_size, share)
    with suppress_instrumentation():  # the reads of the source store too
        if share is None:
            total = await source_store.head_position()
            await _reset(projection, engine, tables)
        else:
            total, topic = share.up_to, None  # the process that shared it out saves it
        position, applied = 0, 0
        growing = GrowingTables(engine)
        try:
            while batch := await read(position):
                # The SDK's tracer ignores the suppression: this span is recorded, the statements'
                # spans (instrumentations check the flag) are not.
                with spans.start_as_current_span("rebuild batch") as span:
                    span.set_attribute("messaging.consumer.group.name", projection.name)
                    span.set_attribute("messaging.batch.message_count", len(batch))
                    wanted = _wanted(projection, batch)
                    if keys is not None:  # for the events it is given: it decodes no others
                        await KEYRING.load(wanted, keys)
                    position = _position(batch[-1])
                    steps = _applying(parts, _split(parts, wanted, placed), tables)
                    done = _Done.total(
                        await _in_turn(engine, parts, tables, topic, position, steps)
                    )
                    applied += done.applied
                    # rows as written: a carried event's rows are counted when they are written
                    growing.wrote(done.written)
                if progress is not None:
                    progress(position, max(total, position))
            while carrying := [p for p in parts if isinstance(p, CarryingProjection) and p.carried]:
                steps = [functools.partial(_write_carried, part=p, tables=tables) for p in carrying]
                written = await _in_turn(engine, parts, tables, topic, position, steps)
                growing.wrote(_Done.total(written).written)
        finally:  # the statistics as fresh as the rows when it ends (or fails)
            await growing.settled()
    return applied


def _reader(
    log: EventLog, batch_size: int, share: Share | None
) -> Callable[[int], Awaitable[list[Envelope]]]:
    """The next batch after a position: the whole log's, or a share's."""
    if share is None:

        async def whole(after: int) -> list[Envelope]:
            return await log.read_all(after, batch_size)

        return whole
    if not isinstance(log, SharedLog):
        raise TypeError(f"a rebuild cannot share out {type(log).__name__} by tenant")

    async def read(after: int) -> list[Envelope]:
        return await log.read_all(after, batch_size, tenants=share.tenants, up_to=share.up_to)

    return read


def _partitions(projection: Projection, partitions: int, shares: int) -> list[Projection]:
    """This process's partitions: ``partitions`` of ``partitions * shares`` in all."""
    if partitions < 1:
        raise ValueError("partitions must be at least 1")
    if partitions * shares == 1 or not isinstance(projection, PartitionedProjection):
        return [projection]
    parts = [projection.for_partition(partitions * shares) for _ in range(partitions)]
    if any(part.name != projection.name for part in parts):
        raise ValueError(f"{projection.name!r} partitions under another name")
    return parts


def _applying(
    parts: list[Projection], split: list[list[Envelope]], tables: ConsumerTables
) -> list[Work]:
    """Each partition's step for a batch: its share of the events applied."""
    return [
        functools.partial(_apply, projection=part, tables=tables, wanted=events)
        for part, events in zip(parts, split, strict=True)
    ]


def _split(
    parts: list[Projection], wanted: list[Envelope], placed: Mapping[str, int] | None
) -> list[list[Envelope]]:
    """The events of each partition, in log order (all of them: one partition): by their
    partition key's place in ``placed`` (a share's tenants), else by its hash."""
    if len(parts) == 1:
        return [wanted]
    first = parts[0]
    assert isinstance(first, PartitionedProjection)
    split: list[list[Envelope]] = [[] for _ in parts]
    for envelope in wanted:
        key = first.partition_key(envelope)
        part = placed[key] if placed is not None else zlib.crc32(key.encode()) % len(parts)
        split[part].append(envelope)
    return split


class _Done(NamedTuple):
    """What one step of a partition did: events applied (handled), and events whose rows
    were written (a carrying projection writes some later, in another step)."""

    applied: int
    written: int

    @staticmethod
    def total(steps: Sequence[_Done]) -> _Done:
        return _Done(sum(s.applied for s in steps), sum(s.written for s in steps))


Work = Callable[[AsyncConnection], Awaitable[_Done]]


async def _in_turn(
    engine: AsyncEngine,
    parts: list[Projection],
    tables: ConsumerTables,
    topic: str | None,
    position: int,
    work: list[Work],
) -> list[_Done]:
    """One step of each partition's work, then the checkpoint: one partition's in the same
    transaction; several partitions' each in a transaction of its own, side by side, and the
    checkpoint once all of them are committed (a partition's carried events are released in
    memory before its commit)."""
    if len(parts) == 1:
        (step,) = work
        async with _transaction(engine) as tx:
            done = await step(tx)
            await _checkpoint(tx, parts, tables, topic, position)
        return [done]

    async def alone(step: Work) -> _Done:
        async with _transaction(engine) as tx:
            return await step(tx)

    async with asyncio.TaskGroup() as group:  # a failure cancels the others and is raised
        tasks = [group.create_task(alone(step)) for step in work]
    if topic is not None:  # else none is saved (a share's, say)
        async with _transaction(engine) as tx:
            await _checkpoint(tx, parts, tables, topic, position)
    return [task.result() for task in tasks]


async def _write_carried(tx: AsyncConnection, *, part: Projection, tables: ConsumerTables) -> _Done:
    """Write some of what ``part`` still carries and claim it; the events written."""
    assert isinstance(part, CarryingProjection)
    await part.write_carried(tx)
    released = part.carried.take_released()
    await inbox.claim_all(tx, tables, part.name, released)
    return _Done(0, len(released))


@contextlib.asynccontextmanager
async def _transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A rebuild's transaction. On PostgreSQL its commit does not wait for the WAL to reach
    the disk (``synchronous_commit`` off for it alone): a crash may lose the last few such
    commits, but only whole and in commit order — as if the rebuild had stopped a little
    earlier — so what is left still claims only events applied, behind its checkpoint."""
    async with engine.begin() as tx:
        if tx.dialect.name == "postgresql":
            await tx.execute(_NO_FLUSH_WAIT)
        yield tx


_NO_FLUSH_WAIT = text("SET LOCAL synchronous_commit TO OFF")


def _wanted(projection: Projection, batch: list[Envelope]) -> list[Envelope]:
    types = projection.event_types
    return [envelope for envelope in batch if types is None or envelope.type in types]


async def _apply(
    tx: AsyncConnection, *, projection: Projection, tables: ConsumerTables, wanted: list[Envelope]
) -> _Done:
    if isinstance(projection, BatchProjection):
        await projection.handle_batch(tx, wanted)
    else:
        for envelope in wanted:
            await projection.handle(tx, envelope)
    if isinstance(projection, CarryingProjection):  # only what is written
        carried = projection.carried
        claimed = [e.id for e in wanted if not carried.holds(e.id)]
        claimed.extend(carried.take_released())
    else:
        claimed = [e.id for e in wanted]
    await inbox.claim_all(tx, tables, projection.name, claimed)
    return _Done(len(wanted), len(claimed))


async def _checkpoint(
    tx: AsyncConnection,
    parts: list[Projection],
    tables: ConsumerTables,
    topic: str | None,
    reached: int,
) -> None:
    """Save where consumption may resume: before the oldest event any partition carries."""
    if topic is None:
        return
    resume = min(
        part.carried.checkpoint(reached) if isinstance(part, CarryingProjection) else reached
        for part in parts
    )
    await inbox.save_checkpoint(tx, tables, parts[0].name, topic, resume)


def _position(envelope: Envelope) -> int:
    if envelope.globalposition is None:
        raise ValueError(f"event {envelope.id} read from the log has no global position")
    return envelope.globalposition
