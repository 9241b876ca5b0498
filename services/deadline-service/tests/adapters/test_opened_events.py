"""The projection keeps its case events opened across transactions (issue 8): a live batch of a
case whose events it keeps reads which events are stored, not their payloads, and a kept event
whose key is destroyed since reads as its row reads then (erased), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.config import Policies
from deadline_service.domain.facts import RecordedEvent
from naervaer.contracts.case import CaseOpened
from naervaer.envelope import Envelope
from naervaer.privacy import ERASED, KEYRING
from naervaer.privacy.keyvault import KeyVault
from naervaer.testing.statements import statements_sent

from ..conftest import CaseLog
from .test_privacy import ERASED_EMPLOYEE, sick_case

CASE = "case-kept"


async def relevant(case_log: CaseLog) -> list[Envelope]:
    return [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]


async def handled_batch(
    engine: AsyncEngine, projection: TimelineProjection, vault: KeyVault, batch: list[Envelope]
) -> list[str]:
    """Handle ``batch`` in one transaction; the statements that read stored case events."""
    await KEYRING.load(batch, vault)
    with statements_sent(engine) as sent:
        async with engine.begin() as tx:
            await projection.handle_batch(tx, batch)
    return [s for s in sent if s.lstrip().upper().startswith("SELECT") and "case_events" in s]


async def _loaded(engine: AsyncEngine, projection: TimelineProjection) -> list[RecordedEvent]:
    async with engine.begin() as tx:
        return await projection.case_events(tx).load(CASE)


async def test_a_live_batch_reads_no_payload_it_keeps(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    script = sick_case(CASE, ERASED_EMPLOYEE)
    payloads = script.payloads()
    await case_log.append_sealed(CASE, payloads[:-1], vault, ERASED_EMPLOYEE)
    first = await relevant(case_log)
    await case_log.append_sealed(CASE, payloads[-1:], vault, ERASED_EMPLOYEE)
    last = (await relevant(case_log))[len(first) :]
    assert first
    assert last

    warm = TimelineProjection(Policies(), vault)
    await handled_batch(deadline_engine, warm, vault, first)
    reads = await handled_batch(deadline_engine, warm, vault, last)
    assert reads
    assert all("case_events.data" not in s for s in reads), reads

    cold = TimelineProjection(Policies(), vault, OpenedEvents(capacity=0))
    assert [e.payload for e in await _loaded(deadline_engine, warm)] == [
        e.payload for e in await _loaded(deadline_engine, cold)
    ]
    async with deadline_engine.begin() as tx:  # a cold projection reads the payloads
        events = cold.case_events(tx)
        with statements_sent(deadline_engine) as sent:
            await events.load(CASE)
    assert any("case_events.data" in s for s in sent), sent


async def test_a_kept_event_whose_key_is_destroyed_reads_as_erased(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    script = sick_case(CASE, ERASED_EMPLOYEE)
    key_id = await case_log.append_sealed(CASE, script.payloads(), vault, ERASED_EMPLOYEE)
    projection = TimelineProjection(Policies(), vault)
    await handled_batch(deadline_engine, projection, vault, await relevant(case_log))
    opened = next(e.payload for e in await _loaded(deadline_engine, projection))
    assert isinstance(opened, CaseOpened)
    assert opened.employee_id == ERASED_EMPLOYEE

    await vault.shred(key_id)  # by the case service: no erasure event has come yet
    KEYRING.forget(key_id)
    kept = [e.payload for e in await _loaded(deadline_engine, projection)]
    cold = TimelineProjection(Policies(), vault, OpenedEvents(capacity=0))
    assert kept == [e.payload for e in await _loaded(deadline_engine, cold)]
    assert isinstance(kept[0], CaseOpened)
    assert kept[0].employee_id == ERASED
