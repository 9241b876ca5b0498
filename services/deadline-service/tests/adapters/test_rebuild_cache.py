"""A rebuild replays into its own projection (``for_rebuild``, ``ReplayTimeline``): it keeps
the events it opens in a cache of its own, so a carried case is folded from them, and leaves
the live projection's cache as it was. The rows are the same, on SQLite and PostgreSQL,
whether its folds read a case's earlier events kept, some kept and some from their rows, or
all from their rows."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters import projection as projection_module
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import (
    RELEVANT_TYPES,
    ReplayTimeline,
    TimelineProjection,
)
from deadline_service.adapters.tables import consumers
from deadline_service.config import Policies
from naervaer.messaging import rebuild
from naervaer.privacy import KEYRING
from naervaer.privacy.keyvault import KeyVault

from ..conftest import CaseLog, NoKeys, snapshot
from .test_batched_rebuild import TABLES, mixed_log


def test_the_rebuild_variant_is_the_same_projection_with_a_cache_of_its_own() -> None:
    live = TimelineProjection(Policies(), NoKeys(), OpenedEvents())
    variant = live.for_rebuild()
    assert isinstance(variant, ReplayTimeline)
    assert (variant.name, variant.event_types) == (live.name, live.event_types)


@pytest.mark.parametrize("kept", [0, 2, 100_000])  # none, a few, every event the log has
async def test_a_rebuild_leaves_the_same_rows_and_the_live_cache_alone(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
    kept: int,
) -> None:
    monkeypatch.setattr(projection_module, "REPLAY_OPENED", kept)
    await mixed_log(case_log, vault)
    envelopes = [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]
    live_cache = OpenedEvents()
    projection = TimelineProjection(Policies(), vault, live_cache)

    # small batches: cases are carried across them and folded from what the rebuild kept
    await rebuild(projection, deadline_engine, consumers, case_log.store, batch_size=3, keys=vault)
    rebuilt = await snapshot(deadline_engine, *TABLES)
    assert len(live_cache) == 0

    # the live projection given the same log in one batch: the same rows
    await KEYRING.load(envelopes, vault)
    async with deadline_engine.begin() as tx:
        await projection.reset(tx)
        await projection.handle_batch(tx, envelopes)
    assert len(live_cache) > 0
    assert await snapshot(deadline_engine, *TABLES) == rebuilt
