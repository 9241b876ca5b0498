"""A rebuild replays into a projection that keeps no opened events (``for_rebuild``): it folds
each case about once, so filling the cache would cost every event a scan of its sealed tokens
for nothing, and the live projection's cache is left as it was. The rows are the same, on
SQLite and PostgreSQL, whether a batch reads a case's earlier events kept or from its rows."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.adapters.tables import consumers
from deadline_service.config import Policies
from naervaer.messaging import rebuild
from naervaer.privacy import KEYRING
from naervaer.privacy.keyvault import KeyVault

from ..conftest import CaseLog, NoKeys, snapshot
from .test_batched_rebuild import TABLES, mixed_log


def test_the_rebuild_variant_is_the_same_projection_keeping_nothing() -> None:
    live = TimelineProjection(Policies(), NoKeys(), OpenedEvents())
    variant = live.for_rebuild()
    assert variant is not live
    assert (variant.name, variant.event_types) == (live.name, live.event_types)


async def test_a_rebuild_keeps_no_opened_event(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await mixed_log(case_log, vault)
    envelopes = [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]
    kept: list[Any] = []
    keep = OpenedEvents.keep

    def spied(self: OpenedEvents, *args: Any) -> Any:
        kept.append(args)
        return keep(self, *args)

    monkeypatch.setattr(OpenedEvents, "keep", spied)
    live_cache = OpenedEvents()
    projection = TimelineProjection(Policies(), vault, live_cache)

    # small batches: most cases' earlier events are read back from their rows
    await rebuild(projection, deadline_engine, consumers, case_log.store, batch_size=3, keys=vault)
    rebuilt = await snapshot(deadline_engine, *TABLES)
    assert (kept, len(live_cache)) == ([], 0)

    # the live projection given the same log in one batch keeps its events: the same rows
    await KEYRING.load(envelopes, vault)
    async with deadline_engine.begin() as tx:
        await projection.reset(tx)
        await projection.handle_batch(tx, envelopes)
    assert kept
    assert len(live_cache) > 0
    assert await snapshot(deadline_engine, *TABLES) == rebuilt
