"""A rebuild from the producing store ends where live consumption ends."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Table, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

import naervaer.db
from naervaer.envelope import Envelope
from naervaer.messaging import (
    Consumer,
    EmbeddedLogSource,
    Projection,
    Subscription,
    rebuild,
)
from naervaer.messaging.rebuild import (
    BatchProjection,
    CarriedEvents,
    CarryingProjection,
    RebuildVariant,
    Share,
    reset_for_rebuild,
    save_rebuilt_checkpoint,
    share_out,
)

if TYPE_CHECKING:
    from shared.tests.messaging.conftest import LogSetup
    from shared.tests.messaging.kits import Db, Kit

pytestmark = pytest.mark.integration

TOPIC = "naervaer.case-events"


@dataclass(frozen=True)
class CaseProjection:
    """The test read model: one ``effects`` row per handled event."""

    name: str
    db: Db
    event_types: frozenset[str] | None = frozenset({"case.opened", "case.noted"})

    async def reset(self, tx: AsyncConnection) -> None:
        await tx.execute(delete(self.db.effects).where(self.db.effects.c.consumer == self.name))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        await self.db.record(tx, self.name, envelope)


def live_consumer(setup: LogSetup, projection: Projection) -> Consumer:
    subscription = Subscription(
        projection.name, (TOPIC,), projection.handle, event_types=projection.event_types
    )
    db = setup.db
    source = EmbeddedLogSource(
        {TOPIC: setup.store}, subscription, db.engine, db.tables, poll_interval_s=0.02
    )
    return db.consumer(subscription, source, poll_timeout_s=0.1)


Rows = list[tuple[object, ...]]


async def state(db: Db, name: str) -> tuple[Rows, Rows, Rows]:
    """Everything live consumption leaves behind: read model, inbox and checkpoint."""

    async def rows(table: Table, *columns: str) -> Rows:
        selected = [table.c[c] for c in columns]
        statement = select(*selected).where(table.c.consumer == name).order_by(*selected)
        async with db.engine.connect() as connection:
            return [tuple(row) for row in (await connection.execute(statement)).all()]

    return (
        await rows(db.effects, "event_id", "stream_id", "version"),
        await rows(db.tables.inbox, "event_id"),
        await rows(db.tables.checkpoints, "source", "position"),
    )


async def test_rebuild_reaches_the_state_of_live_consumption(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    name = kit.unique(f"rebuild-{log_setup.backend}")
    for case in ("case-1", "case-2", "case-3", "case-4"):
        await log_setup.append(case, "case.opened", "case.closed", "case.noted")
    projection = CaseProjection(name, log_setup.db)
    async with kit.running(live_consumer(log_setup, projection)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 8, what="8 handled")
    live = await state(log_setup.db, name)

    reported: list[tuple[int, int]] = []
    applied = await rebuild(
        projection,
        log_setup.db.engine,
        log_setup.db.tables,
        log_setup.store,
        batch_size=5,
        progress=lambda done, total: reported.append((done, total)),
        topic=TOPIC,
    )

    assert applied == 8
    assert await state(log_setup.db, name) == live
    assert reported == [(5, 12), (10, 12), (12, 12)]

    # the live consumer carries on from the rebuilt checkpoint, without duplicates
    await log_setup.append("case-5", "case.opened")
    async with kit.running(live_consumer(log_setup, projection)):
        await kit.eventually(lambda: kit.outcomes(name, "handled") == 9, what="the new event")
    assert kit.outcomes(name, "duplicate") == 0


async def test_rebuild_replaces_a_corrupted_read_model(kit: type[Kit], log_setup: LogSetup) -> None:
    name = kit.unique(f"repair-{log_setup.backend}")
    await log_setup.append("case-1", "case.opened", "case.noted")
    projection = CaseProjection(name, log_setup.db, event_types=None)
    async with log_setup.db.engine.begin() as tx:  # a stale row and a stale inbox entry
        await projection.handle(tx, kit.envelope("case-9", 1))
        await tx.execute(
            log_setup.db.tables.inbox.insert().values(
                consumer=name, event_id=kit.envelope().id, handled_at=kit.envelope().time
            )
        )

    assert await rebuild(projection, log_setup.db.engine, log_setup.db.tables, log_setup.store) == 2

    effects, inbox, checkpoints = await state(log_setup.db, name)
    log = await log_setup.store.read_all(0, 10)
    assert sorted(row[0] for row in effects) == sorted(e.id for e in log)
    assert sorted(row[0] for row in inbox) == sorted(e.id for e in log)
    assert checkpoints == []  # no topic given: the consumer re-reads, the inbox dedupes


@dataclass(frozen=True)
class BatchedCaseProjection(CaseProjection):
    """The same read model, applied a batch at a time; records the batches it was given."""

    batches: list[list[tuple[str, int | None]]] = field(default_factory=list)

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        raise AssertionError("a rebuild must hand a batch projection whole batches")

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        self.batches.append([(e.streamid, e.streamversion) for e in envelopes])
        for envelope in envelopes:
            await self.db.record(tx, self.name, envelope)


async def test_rebuild_hands_whole_batches_to_a_batch_projection(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """``handle_batch`` gets each batch's wanted events in log order; ``handle`` per event
    stays the path of projections without it."""
    for case in ("case-1", "case-2", "case-3"):
        await log_setup.append(case, "case.opened", "case.closed", "case.noted")
    db, store = log_setup.db, log_setup.store
    plain = CaseProjection(kit.unique(f"plain-{log_setup.backend}"), db)
    batched = BatchedCaseProjection(kit.unique(f"batched-{log_setup.backend}"), db)
    assert isinstance(batched, BatchProjection)
    assert not isinstance(plain, BatchProjection)

    assert await rebuild(plain, db.engine, db.tables, store, batch_size=4, topic=TOPIC) == 6
    assert await rebuild(batched, db.engine, db.tables, store, batch_size=4, topic=TOPIC) == 6

    wanted = [(e.streamid, e.streamversion) for e in await store.read_all(0, 100)]
    wanted = [w for i, w in enumerate(wanted) if i % 3 != 1]  # case.closed is not wanted
    assert [w for batch in batched.batches for w in batch] == wanted
    assert [len(batch) for batch in batched.batches] == [3, 2, 1]  # of 4, 4 and 1 read
    assert await state(db, batched.name) == await state(db, plain.name)


@pytest.mark.parametrize("log_setup", ["postgresql"], indirect=True)  # SQLite: no statistics
@pytest.mark.parametrize("first_analysis_at", [3, 10_000])
async def test_rebuild_refreshes_the_planners_statistics_as_its_tables_fill(
    kit: type[Kit],
    log_setup: LogSetup,
    monkeypatch: pytest.MonkeyPatch,
    first_analysis_at: int,
) -> None:
    """Filled faster than autovacuum looks, the tables would be planned for as they were
    (empty): the rebuild analyses them each time the events applied double from 1 000 (here
    from 3). Below the first threshold nothing is analysed (never-analysed: reltuples -1)."""
    monkeypatch.setattr(naervaer.db, "ANALYSE_FIRST_AT", first_analysis_at)
    for case in ("case-1", "case-2"):
        await log_setup.append(case, "case.opened", "case.noted")
    db = log_setup.db
    projection = CaseProjection(kit.unique("analysed"), db)
    both_batches = asyncio.Event()  # committed: the rebuild went on beside the analysis
    seen = db.analyses(monkeypatch, projection.name, after=both_batches)

    batches: list[int] = []

    def progress(position: int, _head: int) -> None:
        batches.append(position)
        if len(batches) == 2:
            both_batches.set()

    applied = await rebuild(
        projection, db.engine, db.tables, log_setup.store, batch_size=3, progress=progress
    )
    assert applied == 4

    reltuples = await db.effects_planned_for()
    if first_analysis_at == 3:
        # begun after the first batch (3 written), beside the rebuild, which wrote the
        # second batch's row meanwhile; not again before 6; over when the rebuild returns
        assert seen == [4]
        assert reltuples == 4
    else:
        assert seen == []
        assert reltuples == -1


@dataclass(frozen=True)
class PuttingOffProjection(CaseProjection):
    """A carrying projection that writes nothing before the end (``write_carried``), as the
    deadline timeline's replay does with most cases of a log in calendar order."""

    held: list[Envelope] = field(default_factory=list)
    carried: CarriedEvents = field(default_factory=CarriedEvents)

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        self.held.extend(envelopes)
        self.carried.hold((e.id, _position(e)) for e in envelopes)

    async def write_carried(self, tx: AsyncConnection) -> None:
        envelope = self.held.pop(0)  # a transaction's worth: one event
        await self.db.record(tx, self.name, envelope)
        self.carried.release([envelope.id])


def _position(envelope: Envelope) -> int:
    assert envelope.globalposition is not None
    return envelope.globalposition


@pytest.mark.parametrize("log_setup", ["postgresql"], indirect=True)  # SQLite: no statistics
async def test_a_carrying_rebuild_counts_rows_for_its_statistics_as_it_writes_them(
    kit: type[Kit], log_setup: LogSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events carried are not written yet: counted as written when handled, the tables were
    analysed while still empty and then filled without a look (W5: the replay writes most
    of a calendar-ordered log's rows at its end, and the timeline's DELETE by case ids was
    planned as a sequential scan of a table grown 250 times since: 36 ms a statement)."""
    monkeypatch.setattr(naervaer.db, "ANALYSE_FIRST_AT", 3)
    for case in ("case-1", "case-2", "case-3", "case-4"):
        await log_setup.append(case, "case.opened", "case.noted")
    db = log_setup.db
    projection = PuttingOffProjection(kit.unique("carried"), db)
    assert isinstance(projection, CarryingProjection)
    seen = db.analyses(monkeypatch, projection.name)

    assert await rebuild(projection, db.engine, db.tables, log_setup.store, batch_size=3) == 8

    reltuples = await db.effects_planned_for()
    # Analysed as the rows written reached 3 and 6 (of 8, one a transaction; beside the
    # writer, so maybe a few more). Counting the events handled, it analysed the empty
    # table twice before writing a row.
    assert len(seen) == 2
    assert seen[0] >= 3
    assert seen[1] >= 6
    assert reltuples >= 6


@dataclass(frozen=True)
class LiveCaseProjection(CaseProjection):
    """A projection with a variant of itself for rebuilds (``RebuildVariant``)."""

    variant_name: str | None = None
    variants: list[BatchedCaseProjection] = field(default_factory=list)

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        raise AssertionError("a rebuild must replay into the projection's rebuild variant")

    def for_rebuild(self) -> BatchedCaseProjection:
        variant = BatchedCaseProjection(self.variant_name or self.name, self.db)
        self.variants.append(variant)
        return variant


@dataclass(frozen=True)
class TenantProjection(CaseProjection):
    """Partitioned by tenant; remembers what each instance was made as a part of."""

    parts_of: list[int] = field(default_factory=list)

    def partition_key(self, envelope: Envelope) -> str:
        return envelope.tenant

    def for_partition(self, partitions: int) -> TenantProjection:
        self.parts_of.append(partitions)
        return self


async def test_a_rebuild_shared_out_by_tenant_reaches_the_state_of_a_whole_one(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """Shared out (here the shares one after the other, as processes would run them side by
    side): each share replays only its tenants' events up to the position shared out, none
    saves a checkpoint, and once the last is saved the rows, inbox and checkpoint are a whole
    rebuild's. An event appended after the share-out is left to consumption."""
    for tenant, case in [("a", "case-1"), ("b", "case-2"), ("a", "case-3"), ("c", "case-4")]:
        await log_setup.append(case, "case.opened", "case.closed", "case.noted", tenant=tenant)
    db, store = log_setup.db, log_setup.store
    whole = TenantProjection(kit.unique(f"whole-{log_setup.backend}"), db)
    shared = TenantProjection(kit.unique(f"shared-{log_setup.backend}"), db)
    assert await rebuild(whole, db.engine, db.tables, store, batch_size=3, topic=TOPIC) == 8

    up_to = await store.head_position()
    assert await store.tenant_counts(up_to) == {"a": 6, "b": 3, "c": 3}
    shares = share_out(await store.tenant_counts(up_to), 2, up_to)
    await log_setup.append("case-5", "case.opened", tenant="a")  # after the share-out
    await reset_for_rebuild(shared, db.engine, db.tables)
    applied = [
        await rebuild(shared, db.engine, db.tables, store, batch_size=3, topic=TOPIC, share=s)
        for s in shares
    ]
    _, _, checkpoints = await state(db, shared.name)
    await save_rebuilt_checkpoint(shared, db.engine, db.tables, TOPIC, up_to)

    assert [set(s.tenants) for s in shares] == [{"a"}, {"b", "c"}]
    assert applied == [4, 4]
    assert checkpoints == []  # a share saves none
    assert await state(db, shared.name) == await state(db, whole.name)


async def test_only_a_projection_partitioned_by_tenant_is_shared_out(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """Shared out, a projection whose rows span tenants would read rows another process is
    writing: refused before anything is read."""
    await log_setup.append("case-1", "case.opened", tenant="a")
    db = log_setup.db
    projection = CaseProjection(kit.unique(f"whole-{log_setup.backend}"), db)
    share = Share({"a": 1}, await log_setup.store.head_position(), 2)

    with pytest.raises(TypeError, match="not partitioned"):
        await rebuild(projection, db.engine, db.tables, log_setup.store, share=share)


@pytest.mark.parametrize(
    ("tenants", "partitions", "shares", "made"),
    [("ab", 2, 3, [6, 6]), ("a", 2, 3, [3]), ("abc", 2, 3, [6, 6]), ("a", 1, 2, [2]),
     ("a", 1, 1, [])],
)  # fmt: skip
async def test_a_shares_partitions_are_parts_of_every_shares_partitions(
    kit: type[Kit],
    log_setup: LogSetup,
    tenants: str,
    partitions: int,
    shares: int,
    made: list[int],
) -> None:
    """What a projection may hold in memory is divided among all the processes' partitions:
    each process holding its partitions' part of the whole limit, the rebuild holds no more
    shared out than in one process. A share of fewer tenants than partitions replays in as
    many partitions as it has tenants (a partition of no tenant would idle), each holding
    more of the share's part."""
    for tenant in tenants:
        await log_setup.append(f"case-{tenant}", "case.opened", tenant=tenant)
    db = log_setup.db
    projection = TenantProjection(kit.unique(f"parts-{log_setup.backend}"), db)
    share = Share(dict.fromkeys(tenants, 1), await log_setup.store.head_position(), shares)

    await rebuild(
        projection, db.engine, db.tables, log_setup.store, partitions=partitions, share=share
    )

    assert projection.parts_of == made


@dataclass(frozen=True)
class PlacedProjection(TenantProjection):
    """Partitioned by tenant; each partition remembers the tenants it was given."""

    part: int = -1
    seen: dict[int, set[str]] = field(default_factory=dict)

    def for_partition(self, partitions: int) -> PlacedProjection:
        part = replace(self, part=len(self.seen))
        self.seen[part.part] = set()
        return part

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        self.seen[self.part].add(envelope.tenant)
        await super().handle(tx, envelope)


async def test_a_shares_tenants_fill_its_partitions_by_their_events(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """Two tenants whose hashes fall in one partition of two still get one partition each."""
    for tenant in "ab":  # crc32("a") % 2 == crc32("b") % 2
        await log_setup.append(f"case-{tenant}", "case.opened", "case.noted", tenant=tenant)
    db = log_setup.db
    projection = PlacedProjection(kit.unique(f"placed-{log_setup.backend}"), db)
    up_to = await log_setup.store.head_position()
    share = Share({"a": 2, "b": 2}, up_to)

    applied = await rebuild(
        projection, db.engine, db.tables, log_setup.store, partitions=2, share=share
    )

    assert applied == 4
    assert sorted(map(sorted, projection.seen.values())) == [["a"], ["b"]]


async def test_rebuild_replays_into_the_projections_rebuild_variant(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """A ``RebuildVariant`` (e.g. without the caches of live consumption) is rebuilt through
    ``for_rebuild()``: the same rows, inbox and checkpoint as the plain projection's."""
    for case in ("case-1", "case-2"):
        await log_setup.append(case, "case.opened", "case.noted")
    db, store = log_setup.db, log_setup.store
    plain = CaseProjection(kit.unique(f"plain-{log_setup.backend}"), db)
    live = LiveCaseProjection(kit.unique(f"variant-{log_setup.backend}"), db)
    assert isinstance(live, RebuildVariant)
    assert not isinstance(plain, RebuildVariant)

    assert await rebuild(live, db.engine, db.tables, store, batch_size=3, topic=TOPIC) == 4
    assert await rebuild(plain, db.engine, db.tables, store, batch_size=3, topic=TOPIC) == 4

    (variant,) = live.variants
    assert [len(batch) for batch in variant.batches] == [3, 1]
    assert await state(db, live.name) == await state(db, plain.name)


async def test_a_rebuild_variant_of_another_name_is_refused(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    """The inbox rows and checkpoint a rebuild writes are the consumer's, found by its name."""
    await log_setup.append("case-1", "case.opened")
    db = log_setup.db
    live = LiveCaseProjection(kit.unique("named"), db, variant_name=kit.unique("other"))

    with pytest.raises(ValueError, match="the names differ"):
        await rebuild(live, db.engine, db.tables, log_setup.store)
    assert await state(db, live.name) == ([], [], [])


@dataclass(frozen=True)
class CommitWatchingProjection(CaseProjection):
    """Notes, in each transaction it handles events in, whether its commit waits for the
    WAL to reach the disk."""

    waits: list[str] = field(default_factory=list)

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        if tx.dialect.name == "postgresql":
            self.waits.append((await tx.execute(text("SHOW synchronous_commit"))).scalar_one())
        await super().handle(tx, envelope)


async def test_a_rebuild_on_postgresql_commits_without_waiting_for_the_flush(
    kit: type[Kit], log_setup: LogSetup
) -> None:
    for case in ("case-1", "case-2"):
        await log_setup.append(case, "case.opened", "case.noted")
    db = log_setup.db
    projection = CommitWatchingProjection(kit.unique("no-flush-wait"), db)

    await rebuild(projection, db.engine, db.tables, log_setup.store, batch_size=3, topic=TOPIC)

    assert await state(db, projection.name) != ([], [], [])  # replayed and committed
    if log_setup.backend == "sqlite":  # no such setting: its transactions are as ever
        assert projection.waits == []
        return
    assert projection.waits == ["off"] * 4  # inside the rebuild's transactions only
    async with db.engine.begin() as tx:  # the engine's other transactions are as configured
        assert (await tx.execute(text("SHOW synchronous_commit"))).scalar_one() == "on"
