"""``handle_batch`` on a projection that already holds rows, as the live consumer calls it: the
batches begin in the middle of the cases' histories, the case rows carry digests of what was
written, and some timers were fired by the scheduler meanwhile. The tables must be those of
handling every event one at a time, on SQLite and PostgreSQL, at batch sizes 1, 7 and 1 000."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.adapters.tables import metadata, timers
from deadline_service.config import Policies
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource
from naervaer.privacy.keyvault import KeyVault

from ..conftest import CaseLog, snapshot
from .test_batched_rebuild import TABLES, mixed_log

FIRED_AT = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)
FIRED_EVENT = uuid.UUID(int=4711)
Rows = dict[str, list[dict[str, Any]]]


async def test_batches_on_live_state_leave_the_tables_of_one_event_at_a_time(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    await mixed_log(case_log, vault)
    projection = TimelineProjection(Policies(), vault)
    wanted = [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]
    # Redelivered at the end (a consumer crashed before committing its offset): an erased
    # case's opening, after its erasure in the same batch, and a live case's first note.
    redelivered = [_first(wanted, "gone-1", 1), _first(wanted, "solo-1", 2)]
    for split in (len(wanted) // 4, len(wanted) // 2 + 3):
        prefix, rest = wanted[:split], wanted[split:] + redelivered
        await _wipe(deadline_engine)
        for envelope in prefix:
            await _handle(deadline_engine, projection, vault, [envelope], batch=False)
        assert await _fire_some_timers(deadline_engine) > 0, split
        before = await _rows(deadline_engine)
        assert before["cases"], split
        assert before["case_events"], split

        for envelope in rest:
            await _handle(deadline_engine, projection, vault, [envelope], batch=False)
        one_by_one = await snapshot(deadline_engine, *TABLES)
        assert any(r[6] == FIRED_AT for r in one_by_one["timers"]), split
        for size in (1, 7, 1000):
            await _restore(deadline_engine, before)
            for start in range(0, len(rest), size):
                batch = rest[start : start + size]
                await _handle(deadline_engine, projection, vault, batch, batch=True)
            batched = await snapshot(deadline_engine, *TABLES)
            for table in TABLES:
                assert batched[table] == one_by_one[table], (split, size, table)


def _first(envelopes: Sequence[Envelope], case_id: str, version: int) -> Envelope:
    return next(e for e in envelopes if (e.streamid, e.streamversion) == (case_id, version))


async def _handle(
    engine: AsyncEngine,
    projection: TimelineProjection,
    keys: KeySource,
    envelopes: Sequence[Envelope],
    *,
    batch: bool,
) -> None:
    """One transaction, keys loaded first, as the consumer does it."""
    await KEYRING.load(envelopes, keys)
    async with engine.begin() as tx:
        if batch:
            await projection.handle_batch(tx, envelopes)
        else:
            await projection.handle(tx, envelopes[0])


async def _fire_some_timers(engine: AsyncEngine) -> int:
    """What the scheduler does meanwhile: the earliest-due stages are sent and marked fired."""
    async with engine.begin() as tx:
        first = select(timers.c.fire_on).order_by(timers.c.fire_on).limit(1).offset(8)
        cutoff = (await tx.execute(first)).scalar_one()
        fired = (
            update(timers)
            .where(timers.c.fire_on <= cutoff)
            .values(fired_at=FIRED_AT, event_id=FIRED_EVENT)
        )
        return (await tx.execute(fired)).rowcount


async def _wipe(engine: AsyncEngine) -> None:
    async with engine.begin() as tx:
        for name in TABLES:
            await tx.execute(delete(metadata.tables[name]))


async def _rows(engine: AsyncEngine) -> Rows:
    async with engine.connect() as conn:
        found: Rows = {}
        for name in TABLES:
            result = await conn.execute(select(metadata.tables[name]))
            found[name] = [dict(row._mapping) for row in result]
        return found


async def _restore(engine: AsyncEngine, rows: Rows) -> None:
    await _wipe(engine)
    async with engine.begin() as tx:
        for name, table_rows in rows.items():
            if table_rows:
                await tx.execute(insert(metadata.tables[name]), table_rows)
