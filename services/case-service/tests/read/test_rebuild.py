"""Live consumption and ``naervaer rebuild`` end in the same rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.summary import SummaryRows
from case_service.adapters.tables import consumers, event_store, read_models
from case_service.app.summary_projection import CaseSummaryProjection
from naervaer.contracts import CONTRACTS
from naervaer.contracts.employee import PersonalDataErased
from naervaer.eventstore import EventStore, NewEvent
from naervaer.messaging import Consumer, EmbeddedLogSource, LocalDeadLetterSink, rebuild
from naervaer.privacy.sealer import Sealer
from naervaer.service import subscribe

from .builders import (
    TENANT,
    append,
    closed,
    corrected,
    extended,
    graded,
    note,
    opened,
    reassigned,
    returned,
    self_cert,
    vault,
)

pytestmark = pytest.mark.integration
TOPIC = "naervaer.case-events"


def story(case_id: str, first: str) -> list[Any]:
    """A case with corrections, grading, a partial return and a reassignment."""
    return [
        opened(first, case_id=case_id, began_with="self_certification"),
        self_cert(first, first, case_id=case_id),
        note("n1", "2026-01-06", "2026-01-31", case_id=case_id),
    ]


def later(case_id: str) -> list[Any]:
    """Then: extended, graded, corrected, reassigned, a partial return, closed."""
    events = [
        extended("n1", "2026-02-28"),
        graded("n1", "2026-02-09", 50),
        corrected("n1", "2026-01-06", "2026-02-20", 70),
        reassigned("mgr-1", "mgr-2", "2026-02-01", case_id=case_id),
        returned("2026-02-16", working_percent=50),
        closed("2026-02-20", case_id=case_id),
    ]
    return [e.model_copy(update={"case_id": case_id}) for e in events]


async def rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    table = read_models.case_summaries
    async with engine.connect() as connection:
        result = await connection.execute(select(table).order_by(table.c.case_id))
        return [dict(row._mapping) for row in result.all()]


async def consume_until_caught_up(engine: AsyncEngine, store: EventStore) -> None:
    keys = vault(engine)
    projection = CaseSummaryProjection(SummaryRows(read_models), keys)
    subscription = subscribe(projection, TOPIC)
    source = EmbeddedLogSource(
        {TOPIC: store}, subscription, engine, consumers, poll_interval_s=0.02
    )
    consumer = Consumer(
        subscription,
        engine,
        consumers,
        source,
        LocalDeadLetterSink(engine, consumers),
        service="case-service",
        max_attempts=1,
        poll_timeout_s=0.05,
        batch_size=5,
        keys=keys,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        head = await store.head_position()
        deadline = time.monotonic() + 20
        while dict(await source.lag()).get((TOPIC, 0), head) > 0:
            assert time.monotonic() < deadline, "the consumer did not catch up"
            assert not task.done(), "the consumer stopped"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task
        await keys.dispose()


async def test_live_consumption_and_rebuild_give_identical_rows(engine: AsyncEngine) -> None:
    store = EventStore(engine, event_store, source="/case-service", outbox_topic=None)
    for case_id, first in (("c1", "2026-01-05"), ("c2", "2026-01-05"), ("c3", "2026-01-12")):
        await append(store, story(case_id, first))
    await consume_until_caught_up(engine, store)
    for case_id in ("c1", "c3"):  # updates of rows that exist, in a second live run
        await append(store, later(case_id))
    await consume_until_caught_up(engine, store)
    live = await rows(engine)
    assert [r["status"] for r in live] == ["closed", "open", "closed"]
    assert live[0]["current_grade"] == 50  # the partial return's 100 - 50 %

    applied = await rebuild(
        CaseSummaryProjection(SummaryRows(read_models), vault(engine)),
        engine,
        consumers,
        store,
        topic=TOPIC,
    )

    assert applied == 3 * 3 + 2 * 6
    assert await rows(engine) == live
    async with engine.connect() as connection:
        dead = await connection.execute(select(func.count()).select_from(consumers.dead_letters))
        assert dead.scalar() == 0


async def append_sealed(store: EventStore, sealer: Sealer, events: list[Any]) -> None:
    """``events`` of one case of emp-1, their personal fields sealed with emp-1's key."""
    datas = await sealer.for_employee(TENANT, "emp-1", events)
    new = [
        NewEvent(type=CONTRACTS.type_of(e).name, data=d) for e, d in zip(events, datas, strict=True)
    ]
    await store.append(events[0].case_id, new, tenant=TENANT, expected_version=None)


async def test_an_erased_case_never_comes_back_live_or_in_a_rebuild(engine: AsyncEngine) -> None:
    keys = vault(engine)
    await keys.install()
    store = EventStore(engine, event_store, source="/case-service", outbox_topic=None)
    await append_sealed(store, Sealer(keys), story("c1", "2026-01-05") + later("c1"))
    await append(store, story("c2", "2026-01-12"))
    await consume_until_caught_up(engine, store)
    key_id = (await keys.key_for(TENANT, "emp-1")).key_id
    erased = PersonalDataErased(
        key_id=key_id,
        case_ids=["c1"],
        erased_on=date(2026, 3, 2),
        basis="retention_expired",
        retention_months=0,
        last_closed_on=date(2026, 2, 20),
    )
    # Appended but not shredded: as if the erasure crashed in between; the consumer finishes.
    await store.append(
        "employee:acme:ref",
        [NewEvent(type="employee.personal_data_erased", data=erased)],
        tenant=TENANT,
        expected_version=None,
        stream_type="employee",
    )
    await consume_until_caught_up(engine, store)
    assert [r["case_id"] for r in await rows(engine)] == ["c2"]
    assert await keys.keys([key_id]) == {key_id: None}

    projection = CaseSummaryProjection(SummaryRows(read_models), keys)
    await rebuild(projection, engine, consumers, store, topic=TOPIC, keys=keys)
    assert [r["case_id"] for r in await rows(engine)] == ["c2"]
    await keys.dispose()
