"""A rebuild carries waiting cases from batch to batch (``ReplayTimeline``, ``adapters.batch.
Carry``): a case whose events lie batches apart is folded about once. The tables are those of
handling the log one event at a time, whatever the batch size and however many cases may be
carried; and a rebuild stopped half-way leaves only events whose effects are written claimed,
its checkpoint before every event still carried, so consumption continuing from there reaches
the same tables."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import zip_longest
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from deadline_service.adapters import case_events as case_events_module
from deadline_service.adapters.batch import Carry
from deadline_service.adapters.projection import (
    RELEVANT_TYPES,
    ReplayTimeline,
    TimelineProjection,
)
from deadline_service.adapters.tables import consumers
from deadline_service.config import Policies
from naervaer.envelope import Envelope
from naervaer.eventstore import EventStore
from naervaer.messaging import inbox, rebuild
from naervaer.privacy import KEYRING
from naervaer.privacy.keyvault import KeyVault

from ..conftest import CaseLog, project, snapshot
from .test_batched_rebuild import (
    TABLES,
    _append,
    family_cases,
    mixed_log,
    pair_cases,
    short_case,
    solo_case,
)

TOPIC = "naervaer.case-events"


async def projected_one_by_one(
    engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> tuple[list[Envelope], dict[str, list[tuple[Any, ...]]]]:
    """The log's envelopes, and the tables once they were projected one event at a time:
    what every rebuild here must leave."""
    envelopes = await case_log.envelopes()
    await project(engine, envelopes, keys=vault)
    return envelopes, await snapshot(engine, *TABLES)


class RebuildStopped(Exception):
    """The rebuild's process stopped (a crash, a deploy) after some batches."""


class StoppingLog:
    """The case log, failing its read after ``batches`` batches."""

    def __init__(self, store: EventStore, batches: int) -> None:
        self._store = store
        self._left = batches

    async def head_position(self) -> int:
        return await self._store.head_position()

    async def read_all(self, after_position: int, limit: int) -> list[Envelope]:
        if self._left == 0:
            raise RebuildStopped
        self._left -= 1
        return await self._store.read_all(after_position, limit)


@pytest.mark.parametrize(
    ("carry_limit", "written_at_end"), [(1, 1_000), (2, 1_000), (20_000, 1_000), (20_000, 2)]
)
@pytest.mark.parametrize("batch_size", [1, 7])
async def test_carried_cases_leave_the_tables_of_one_event_at_a_time(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    carry_limit: int,
    written_at_end: int,
    batch_size: int,
) -> None:
    await mixed_log(case_log, vault)
    envelopes, one_by_one = await projected_one_by_one(deadline_engine, case_log, vault)
    carry = Carry(limit=carry_limit, written_at_end=written_at_end)
    replay = ReplayTimeline(Policies(), vault, carry)

    applied = await rebuild(
        replay, deadline_engine, consumers, case_log.store, batch_size=batch_size, keys=vault
    )

    assert applied == len(envelopes)
    assert await snapshot(deadline_engine, *TABLES) == one_by_one
    assert len(replay.carried) == 0
    claimed = await _claimed(deadline_engine, replay.name)
    assert claimed == {str(e.id) for e in envelopes if e.type in RELEVANT_TYPES}


async def test_what_is_carried_at_the_end_is_written_a_case_a_transaction(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scripts = [solo_case(), short_case(), *family_cases(), *pair_cases()]
    streams = [[(s, e.payload) for e in s.events] for s in scripts]
    for script, payload in [item for row in zip_longest(*streams) for item in row if item]:
        await _append(case_log, vault, script, payload)  # no erasure: cases wait to the end
    envelopes, one_by_one = await projected_one_by_one(deadline_engine, case_log, vault)
    replay = ReplayTimeline(Policies(), vault, Carry(limit=20_000, written_at_end=1))
    ends: list[int] = []
    write_carried = ReplayTimeline.write_carried

    async def counted(self: ReplayTimeline, tx: AsyncConnection) -> None:
        ends.append(len(self.carried))
        await write_carried(self, tx)

    monkeypatch.setattr(ReplayTimeline, "write_carried", counted)

    await rebuild(replay, deadline_engine, consumers, case_log.store, batch_size=4, keys=vault)

    assert len(ends) > 1  # several transactions at the end, each writing what was left
    assert ends == sorted(ends, reverse=True)
    assert len(replay.carried) == 0
    assert await snapshot(deadline_engine, *TABLES) == one_by_one
    claimed = await _claimed(deadline_engine, replay.name)
    assert claimed == {str(e.id) for e in envelopes if e.type in RELEVANT_TYPES}


@pytest.mark.parametrize("carry_limit", [3, 8, 1_000])
async def test_a_rebuild_carries_events_up_to_its_limit_and_folds_them_as_they_come(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
    carry_limit: int,
) -> None:
    # cases of employees with no other case, interleaved: each waits until it ages out
    scripts = [solo_case(), short_case(), solo_case(), short_case(), solo_case()]
    streams = [[(s, e.payload) for e in s.events] for s in scripts]
    for script, payload in [item for row in zip_longest(*streams) for item in row if item]:
        await _append(case_log, vault, script, payload)
    envelopes, one_by_one = await projected_one_by_one(deadline_engine, case_log, vault)
    carry = Carry(limit=carry_limit)
    replay = ReplayTimeline(Policies(), vault, carry)
    seen: list[tuple[int, int, int]] = []  # after each batch: events carried, waiting, opened
    handle_batch = ReplayTimeline.handle_batch

    async def watched(self: ReplayTimeline, tx: AsyncConnection, batch: Sequence[Envelope]) -> None:
        await handle_batch(self, tx, batch)
        waiting = sum(len(w.events) for w in carry.waiting.values())
        seen.append((len(self.carried), waiting, len(self._opened)))

    opened_rows: list[object] = []
    recorded = case_events_module.repo.recorded
    monkeypatch.setattr(ReplayTimeline, "handle_batch", watched)
    monkeypatch.setattr(
        case_events_module.repo, "recorded", lambda row: opened_rows.append(row) or recorded(row)
    )

    await rebuild(replay, deadline_engine, consumers, case_log.store, batch_size=2, keys=vault)

    relevant = sum(e.type in RELEVANT_TYPES for e in envelopes)
    assert max(carried for carried, _, _ in seen) == min(carry_limit, relevant)  # up to it
    # the count it decides by is the events waiting
    assert all(carried == waiting <= carry_limit for carried, waiting, _ in seen)
    if carry_limit >= relevant:  # nothing ages out: each case is folded from its events as
        # they came (it was opened in the rebuild), none kept opened nor read back from rows
        assert {opened for _, _, opened in seen} == {0}
        assert opened_rows == []
    else:  # cases aged out and got more events: folded from their rows then
        assert opened_rows
    assert await snapshot(deadline_engine, *TABLES) == one_by_one


class ByGroup(ReplayTimeline):
    """The replay partitioned by what reads what in ``mixed_log`` (a family; an erasure and
    the cases it erases), not by tenant: the log has one tenant."""

    def partition_key(self, envelope: Envelope) -> str:
        prefix, _, rest = envelope.streamid.partition("-")
        if prefix == "employee":  # "employee-erased", "employee-shredded"
            return "gone" if rest == "erased" else rest
        return "gone" if prefix == "lone" else prefix


@pytest.mark.parametrize("partitions", [1, 2])
@pytest.mark.parametrize("batches", [2, 5, 9, 14])
async def test_a_stopped_rebuild_leaves_consumption_the_rest(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault, batches: int, partitions: int
) -> None:
    await mixed_log(case_log, vault)
    envelopes, one_by_one = await projected_one_by_one(deadline_engine, case_log, vault)
    replay = ByGroup(Policies(), vault)  # one partition: a ReplayTimeline as any other

    with pytest.raises(RebuildStopped):
        await rebuild(
            replay,
            deadline_engine,
            consumers,
            StoppingLog(case_log.store, batches),
            batch_size=3,
            topic=TOPIC,
            keys=vault,
            partitions=partitions,
        )

    reached = 3 * batches  # the last position of the last batch applied
    checkpoint = await _checkpoint(deadline_engine, replay.name)
    claimed = await _claimed(deadline_engine, replay.name)
    carried = [e for e in envelopes[:reached] if e.type in RELEVANT_TYPES]
    carried = [e for e in carried if str(e.id) not in claimed]
    assert carried  # something was carried when it stopped
    if partitions == 1:  # replayed into ``replay`` itself (else into instances of its own)
        assert len(replay.carried) == len(carried)
    assert checkpoint == min(_position(e) for e in carried) - 1
    assert await snapshot(deadline_engine, *TABLES) != one_by_one

    await _consume_from(deadline_engine, envelopes, checkpoint, vault)

    assert await snapshot(deadline_engine, *TABLES) == one_by_one


@pytest.mark.parametrize("partitions", [2, 3])
@pytest.mark.parametrize("batch_size", [1, 7, 1_000])
async def test_partitions_replayed_side_by_side_leave_the_tables_of_one_event_at_a_time(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
    partitions: int,
    batch_size: int,
) -> None:
    await mixed_log(case_log, vault)
    envelopes, one_by_one = await projected_one_by_one(deadline_engine, case_log, vault)
    handled: dict[int, set[str]] = {}  # each replaying instance: the groups it was given
    handle_batch = ByGroup.handle_batch

    async def watched(self: ByGroup, tx: AsyncConnection, batch: Sequence[Envelope]) -> None:
        handled.setdefault(id(self), set()).update(self.partition_key(e) for e in batch)
        await handle_batch(self, tx, batch)

    monkeypatch.setattr(ByGroup, "handle_batch", watched)

    applied = await rebuild(
        ByGroup(Policies(), vault, Carry(limit=8)),
        deadline_engine,
        consumers,
        case_log.store,
        batch_size=batch_size,
        topic=TOPIC,
        keys=vault,
        partitions=partitions,
    )

    assert applied == len(envelopes)
    groups = [given for given in handled.values() if given]
    assert len(groups) > 1  # side by side: each group in one partition only
    assert sum(len(given) for given in groups) == len(set().union(*groups))
    assert await snapshot(deadline_engine, *TABLES) == one_by_one
    claimed = await _claimed(deadline_engine, "deadline-service.timeline")
    assert claimed == {str(e.id) for e in envelopes if e.type in RELEVANT_TYPES}
    assert await _checkpoint(deadline_engine, "deadline-service.timeline") == _position(
        envelopes[-1]
    )


async def _consume_from(
    engine: AsyncEngine, envelopes: Sequence[Envelope], checkpoint: int, vault: KeyVault
) -> None:
    """What the live consumer does on its next start: every wanted event after the
    checkpoint, each in one transaction with its inbox row (a claimed one is a duplicate)."""
    live = TimelineProjection(Policies(), vault)
    for envelope in envelopes:
        if _position(envelope) <= checkpoint or envelope.type not in RELEVANT_TYPES:
            continue
        await KEYRING.load([envelope], vault)
        async with engine.begin() as tx:
            if await inbox.claim(tx, consumers, live.name, envelope.id):
                await live.handle(tx, envelope)


async def _claimed(engine: AsyncEngine, consumer: str) -> set[str]:
    table = consumers.inbox
    async with engine.connect() as conn:
        rows = await conn.execute(table.select().where(table.c.consumer == consumer))
        return {str(row.event_id) for row in rows}


async def _checkpoint(engine: AsyncEngine, consumer: str) -> int:
    async with engine.connect() as conn:
        return (await inbox.load_checkpoints(conn, consumers, consumer))[TOPIC]


def _position(envelope: Envelope) -> int:
    assert envelope.globalposition is not None
    return envelope.globalposition


def test_a_partition_replays_with_its_share_of_the_carry_and_the_opened_events(
    vault: KeyVault,
) -> None:
    whole = ReplayTimeline(Policies(), vault, Carry(limit=400, written_at_end=10), opened=100)
    part = whole.for_partition(4)
    assert (part._carry.limit, part._carry.written_at_end) == (100, 10)
    assert part._opened_capacity == 25
    assert part._opened._capacity == 25
