"""The projection keeps each live case's facts folded across transactions (issue 8): a later
batch of the case reads which events are stored, opens none of those it folded before and
folds on from their facts; what it folds is what folding every stored event gives, also
when events were stored or deleted behind its back, or a key was destroyed since, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from deadline_service.adapters import case_events as case_events_module
from deadline_service.adapters.folded import FoldedCases
from deadline_service.adapters.opened import Opened, OpenedEvents
from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.stored import Since, Stored, stored_since
from deadline_service.adapters.tables import case_events
from deadline_service.config import Policies
from deadline_service.domain.facts import CaseFacts
from naervaer.envelope import Envelope
from naervaer.privacy import ERASED, KEYRING
from naervaer.privacy.keyvault import KeyVault
from naervaer.testing.statements import statements_sent

from ..conftest import CaseLog
from .test_opened_events import handled_batch, relevant
from .test_privacy import ERASED_EMPLOYEE, sick_case

CASE = "case-folded"


def _warm(vault: KeyVault) -> tuple[TimelineProjection, FoldedCases]:
    """A projection that keeps folded facts and no opened events: what it does not open
    again, its kept facts spared."""
    folded = FoldedCases()
    return TimelineProjection(Policies(), vault, OpenedEvents(capacity=0), folded), folded


def _cold(vault: KeyVault) -> TimelineProjection:
    return TimelineProjection(Policies(), vault, OpenedEvents(capacity=0), FoldedCases(0))


async def _facts(engine: AsyncEngine, projection: TimelineProjection) -> CaseFacts:
    async with engine.begin() as tx:
        return await projection.case_events(tx).facts(CASE)


async def _delete_newest(tx: AsyncConnection) -> None:
    """Delete the case's newest stored event (as another consumer might)."""
    newest = select(func.max(case_events.c.stream_version)).scalar_subquery()
    await tx.execute(
        delete(case_events).where(
            case_events.c.case_id == CASE, case_events.c.stream_version == newest
        )
    )


async def _split_case(case_log: CaseLog, vault: KeyVault) -> tuple[list[Envelope], ...]:
    """A sealed case in three batches (the last two one event each); its key id last."""
    script = sick_case(CASE, ERASED_EMPLOYEE)
    script.waive("dialogue_meeting_2", "2025-04-01")  # a reason sealed into the facts
    script.note("2026-01-01", "2026-01-20")
    payloads = script.payloads()
    await case_log.append_sealed(CASE, payloads[:-2], vault, ERASED_EMPLOYEE)
    first = await relevant(case_log)
    await case_log.append_sealed(CASE, payloads[-2:-1], vault, ERASED_EMPLOYEE)
    second = (await relevant(case_log))[len(first) :]
    await case_log.append_sealed(CASE, payloads[-1:], vault, ERASED_EMPLOYEE)
    third = (await relevant(case_log))[len(first) + len(second) :]
    assert first
    assert second
    assert third
    return first, second, third


async def test_a_live_batch_folds_on_from_the_kept_facts(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, _ = await _split_case(case_log, vault)
    warm, folded = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, first)
    assert CASE in folded
    reads = await handled_batch(deadline_engine, warm, vault, second)
    assert reads
    assert all("case_events.data" not in s for s in reads), reads  # no stored event opened
    assert await _facts(deadline_engine, warm) == await _facts(deadline_engine, _cold(vault))
    waiver = (await _facts(deadline_engine, warm)).waivers["dialogue_meeting_2"]
    assert waiver.detail == "obviously unnecessary"  # opened once, kept folded

    # A cold projection folds every stored event (it reads their payloads)
    with statements_sent(deadline_engine) as sent:
        await _facts(deadline_engine, _cold(vault))
    assert any("case_events.data" in s for s in sent), sent


async def test_events_stored_behind_the_kept_facts_are_folded_on(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, third = await _split_case(case_log, vault)
    warm, _ = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, first)
    # another consumer (a replica after a rebalance) stores and folds the next one
    await handled_batch(deadline_engine, _cold(vault), vault, second)
    await handled_batch(deadline_engine, warm, vault, third)
    assert await _facts(deadline_engine, warm) == await _facts(deadline_engine, _cold(vault))


async def test_kept_facts_are_not_used_for_other_stored_events(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, _ = await _split_case(case_log, vault)
    warm, _ = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, [*first, *second])
    before = await _facts(deadline_engine, warm)
    async with deadline_engine.begin() as tx:  # an event deleted behind its back
        await _delete_newest(tx)
    facts = await _facts(deadline_engine, warm)
    assert facts != before
    assert facts == await _facts(deadline_engine, _cold(vault))


async def test_kept_facts_whose_key_is_destroyed_read_as_erased(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, _ = await _split_case(case_log, vault)
    warm, folded = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, [*first, *second])
    assert CASE in folded
    key_id = await vault.live_key_id("acme", ERASED_EMPLOYEE)
    assert key_id is not None
    await vault.shred(key_id)  # by the case service: no erasure event has come yet
    KEYRING.forget(key_id)
    facts = await _facts(deadline_engine, warm)
    assert facts.waivers["dialogue_meeting_2"].detail == ERASED
    assert facts == await _facts(deadline_engine, _cold(vault))
    assert CASE not in folded  # nothing opened with the destroyed key is kept


async def test_kept_facts_given_up_between_the_read_and_the_fold_read_the_rows_as_they_are(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, _ = await _split_case(case_log, vault)
    warm, folded = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, [*first, *second])
    async with deadline_engine.begin() as tx:
        events = warm.case_events(tx)
        await events.prefetch([CASE])  # which events are stored: all in the kept facts
        folded.drop(CASE)  # given up meanwhile (aged out, say)
        await _delete_newest(tx)  # and a row gone meanwhile
        facts = await events.facts(CASE)
        loaded = await events.load(CASE)
    assert facts == await _facts(deadline_engine, _cold(vault))
    assert len(loaded) == len(first) + len(second) - 1


class _LookedUp(OpenedEvents):
    """Opened events that note which stored versions were looked up."""

    def __init__(self) -> None:
        super().__init__()
        self.versions: list[int] = []

    def get(self, where: tuple[str, int], event_id: UUID) -> Opened | None:
        self.versions.append(where[1])
        return super().get(where, event_id)


async def test_events_in_the_kept_facts_are_not_looked_up_among_the_opened(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    first, second, third = await _split_case(case_log, vault)
    opened = _LookedUp()
    warm = TimelineProjection(Policies(), vault, opened, FoldedCases())
    await handled_batch(deadline_engine, warm, vault, [*first, *second])
    opened.versions.clear()
    reads = await handled_batch(deadline_engine, warm, vault, third)
    assert all("case_events.data" not in s for s in reads), reads  # folded on, none opened
    folded_before = {e.streamversion for e in [*first, *second]}
    assert not folded_before & set(opened.versions), opened.versions
    assert await _facts(deadline_engine, warm) == await _facts(deadline_engine, _cold(vault))


async def test_only_the_events_after_the_kept_facts_are_listed(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second, third = await _split_case(case_log, vault)
    warm, _ = _warm(vault)
    await handled_batch(deadline_engine, warm, vault, [*first, *second])
    await handled_batch(deadline_engine, _cold(vault), vault, third)  # stored behind its back
    listed: list[Stored] = []

    async def spied(tx: AsyncConnection, asked: Sequence[Since]) -> dict[str, Stored]:
        found = await stored_since(tx, asked)
        listed.extend(found.values())
        return found

    monkeypatch.setattr(case_events_module, "stored_since", spied)
    facts = await _facts(deadline_engine, warm)
    assert [[version for version, _ in stored.events] for stored in listed] == [
        [e.streamversion for e in third]
    ]
    assert all(stored.intact for stored in listed)
    assert facts == await _facts(deadline_engine, _cold(vault))
