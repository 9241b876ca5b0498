"""``handle_batch`` leaves exactly the rows of ``handle`` applied one event at a time, for any
split of the events into batches (SQLite and PostgreSQL), in fewer statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.summary import SummaryRows
from case_service.adapters.tables import read_models
from case_service.app.summary_projection import CaseSummaryProjection, StreamTenantMismatch
from naervaer.envelope import Envelope
from naervaer.privacy.sealing import ERASED
from naervaer.testing.statements import statements_sent

from .builders import (
    closed,
    envelopes,
    extended,
    graded,
    note,
    opened,
    reassigned,
    self_cert,
    vault,
)

pytestmark = pytest.mark.integration
TABLE = read_models.case_summaries


def case(case_id: str, events: Sequence[Any], **stamp: Any) -> list[Envelope]:
    """``events`` as envelopes of ``case_id`` (versions 1, 2, …)."""
    return envelopes([e.model_copy(update={"case_id": case_id}) for e in events], **stamp)


def interleaved() -> list[Envelope]:
    """Three cases' events mixed as a topic delivers them, with every path of ``handle``."""
    c1 = case("c1", [opened("2026-01-05", began_with="self_certification")])
    c1 += case("c1", [self_cert("2026-01-05", "2026-01-05")], first_version=2)
    c1 += case("c1", [note("n1", "2026-01-06", "2026-01-31")], first_version=3)
    c1 += case("c1", [graded("n1", "2026-01-20", 50)], first_version=4)
    c2 = case("c2", [opened("2026-01-12"), note("n1", "2026-01-12", "2026-01-25")])
    c2 += case("c2", [extended("n1", "2026-02-10")], first_version=3)
    c2 += case("c2", [reassigned("mgr-1", "mgr-2", "2026-01-20")], first_version=4)
    c2 += case("c2", [closed("2026-02-10")], first_version=5)
    erased = case(
        "c3", [opened("2026-01-05", employee=ERASED), note("n", "2026-01-05", "2026-01-09")]
    )
    never_opened = case("c4", [note("n1", "2026-01-05", "2026-01-09")], first_version=2)
    mixed = [c1[0], c2[0], c1[1], erased[0], c2[1], c1[2], never_opened[0], c2[2], erased[1]]
    mixed += [c1[1], c2[3], c1[3], c2[4], c2[1]]  # c1[1], c2[1]: redelivered, already folded
    return mixed


async def rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as connection:
        result = await connection.execute(select(TABLE).order_by(TABLE.c.case_id))
        return [dict(row._mapping) for row in result.all()]


async def one_at_a_time(engine: AsyncEngine, items: list[Envelope]) -> list[dict[str, Any]]:
    projection = CaseSummaryProjection(SummaryRows(read_models), vault(engine))
    for envelope in items:
        async with engine.begin() as tx:
            await projection.handle(tx, envelope)
    return await rows(engine)


async def in_batches(engine: AsyncEngine, items: list[Envelope], size: int) -> int:
    """Reset, then feed ``items`` ``size`` at a time; how many statements the batches ran."""
    projection = CaseSummaryProjection(SummaryRows(read_models), vault(engine))
    async with engine.begin() as tx:
        await projection.reset(tx)
    with statements_sent(engine) as sent:  # an insert may go by COPY on PostgreSQL
        for start in range(0, len(items), size):
            async with engine.begin() as tx:
                await projection.handle_batch(tx, items[start : start + size])
    return sum("case_summaries" in s for s in sent)  # not SQLite's BEGIN IMMEDIATE


@pytest.mark.parametrize("size", [1, 2, 5, 14])
async def test_any_split_into_batches_gives_the_rows_of_one_event_at_a_time(
    engine: AsyncEngine, size: int
) -> None:
    items = interleaved()
    expected = await one_at_a_time(engine, items)
    assert [r["case_id"] for r in expected] == ["c1", "c2"]
    assert [r["version"] for r in expected] == [4, 5]

    await in_batches(engine, items, size)

    assert await rows(engine) == expected


async def test_a_batch_reads_once_and_writes_once_per_kind(engine: AsyncEngine) -> None:
    items = interleaved()
    # One select, one insert batch (c1 and c2 are new).
    assert await in_batches(engine, items, len(items)) == 2
    updates = case("c1", [closed("2026-02-01")], first_version=5)
    updates += case("c2", [closed("2026-02-10")], first_version=6)  # closed again: no change
    projection = CaseSummaryProjection(SummaryRows(read_models), vault(engine))
    async with engine.begin() as tx:
        await projection.handle_batch(tx, updates)
    assert [r["version"] for r in await rows(engine)] == [5, 6]


async def test_another_tenant_in_a_batch_is_refused(engine: AsyncEngine) -> None:
    projection = CaseSummaryProjection(SummaryRows(read_models), vault(engine))
    items = case("c1", [opened("2026-01-05")])
    items += case("c1", [closed("2026-01-10")], tenant="globex", first_version=2)
    with pytest.raises(StreamTenantMismatch):
        async with engine.begin() as tx:
            await projection.handle_batch(tx, items)
    assert await rows(engine) == []
