"""The audit trail in the database: tampering with rows is found and named, redeliveries add
nothing, concurrent appends keep one chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import delete, func, select, update

from document_service.adapters.tables import audit_entries, document_versions
from document_service.app.recording import Recorder
from document_service.domain.chain import content_hash, entry_hash
from naervaer.messaging import Outcome

from ..harness import CASE_EVENTS, DocumentApi
from ..story import CaseStory


async def _tenant_with_entries(api: DocumentApi) -> tuple[str, CaseStory]:
    """A fresh tenant whose chain holds 4 entries: opened, sick note, plan, plan version."""
    story = CaseStory(tenant=f"t-{uuid.uuid4().hex[:8]}")
    await api.feed(story.opened(), story.sick_note(), story.plan())
    return story.tenant, story


async def _verify(api: DocumentApi, tenant: str) -> dict[str, Any]:
    response = await api.get("/v1/audit/verify", role="auditor", sub="aud-1", tenant=tenant)
    assert response.status_code == 200, response.text
    verdict: dict[str, Any] = response.json()
    return verdict


async def _tamper(api: DocumentApi, *statements: Any) -> None:
    async with api.runtime.engine.begin() as tx:
        for statement in statements:
            await tx.execute(statement)


def _at(tenant: str, sequence: int) -> Any:
    return (audit_entries.c.tenant == tenant) & (audit_entries.c.sequence == sequence)


def _problems(verdict: dict[str, Any]) -> list[tuple[int, str]]:
    return [(p["sequence"], p["problem"]) for p in verdict["problems"]]


async def test_an_untouched_chain_verifies(any_api: DocumentApi) -> None:
    tenant, _ = await _tenant_with_entries(any_api)
    verdict = await _verify(any_api, tenant)
    assert verdict["ok"] is True
    assert verdict["problems"] == []
    assert verdict["entries_checked"] == 5  # the verify request's own access record included


async def test_a_changed_row_is_named(any_api: DocumentApi) -> None:
    tenant, _story = await _tenant_with_entries(any_api)
    async with any_api.runtime.engine.connect() as conn:
        content = (
            await conn.execute(select(audit_entries.c.content).where(_at(tenant, 2)))
        ).scalar_one()
    forged = {**content, "data": {**content["data"], "type": "case.sick_note_cancelled"}}
    await _tamper(any_api, update(audit_entries).where(_at(tenant, 2)).values(content=forged))
    verdict = await _verify(any_api, tenant)
    assert verdict["ok"] is False
    assert _problems(verdict) == [(2, "changed")]


async def test_a_changed_column_beside_the_content_is_named(any_api: DocumentApi) -> None:
    tenant, _ = await _tenant_with_entries(any_api)
    await _tamper(any_api, update(audit_entries).where(_at(tenant, 3)).values(case_id="another"))
    assert _problems(await _verify(any_api, tenant)) == [(3, "changed")]


async def test_rehashing_a_changed_row_does_not_hide_it(any_api: DocumentApi) -> None:
    """Whoever recomputes the hashes still lacks the key: the signature gives them away."""
    tenant, _ = await _tenant_with_entries(any_api)
    async with any_api.runtime.engine.connect() as conn:
        row = (await conn.execute(select(audit_entries).where(_at(tenant, 2)))).one()
    forged = {**row.content, "data": {**row.content["data"], "time": "2025-01-01T00:00:00Z"}}
    digest = content_hash(forged)
    rehashed = entry_hash(
        tenant=tenant,
        sequence=2,
        recorded_at=row.recorded_at,
        previous_hash=row.previous_hash,
        content_digest=digest,
    )
    await _tamper(
        any_api,
        update(audit_entries)
        .where(_at(tenant, 2))
        .values(content=forged, content_hash=digest, entry_hash=rehashed),
        update(audit_entries).where(_at(tenant, 3)).values(previous_hash=rehashed),
    )
    problems = _problems(await _verify(any_api, tenant))
    assert (2, "bad_signature") in problems
    assert all(sequence in (2, 3) for sequence, _ in problems)


async def test_a_removed_row_is_named(any_api: DocumentApi) -> None:
    tenant, _ = await _tenant_with_entries(any_api)
    await _tamper(any_api, delete(audit_entries).where(_at(tenant, 2)))
    assert _problems(await _verify(any_api, tenant)) == [(2, "removed")]


async def test_a_removed_last_row_is_named_against_the_head(any_api: DocumentApi) -> None:
    tenant, _ = await _tenant_with_entries(any_api)
    await _tamper(any_api, delete(audit_entries).where(_at(tenant, 4)))
    assert _problems(await _verify(any_api, tenant)) == [(4, "removed")]


async def test_two_swapped_rows_are_named_as_reordered(any_api: DocumentApi) -> None:
    tenant, _ = await _tenant_with_entries(any_api)
    await _tamper(
        any_api,
        update(audit_entries).where(_at(tenant, 2)).values(sequence=-2),
        update(audit_entries).where(_at(tenant, 3)).values(sequence=2),
        update(audit_entries).where(_at(tenant, -2)).values(sequence=3),
    )
    verdict = await _verify(any_api, tenant)
    assert _problems(verdict) == [(2, "reordered"), (3, "reordered")]
    assert [p["expected_sequence"] for p in verdict["problems"]] == [3, 2]


async def test_a_redelivered_event_adds_no_second_entry(any_api: DocumentApi) -> None:
    story = CaseStory(tenant=f"t-{uuid.uuid4().hex[:8]}")
    opened, plan = story.opened(), story.plan()
    assert await any_api.feed(opened, plan) == [Outcome.HANDLED, Outcome.HANDLED]
    assert await any_api.feed(opened, plan) == [Outcome.DUPLICATE, Outcome.DUPLICATE]

    # Even past the inbox (another consumer name, a replay), the unique source id holds.
    recorder = _recorder(any_api)
    for _ in range(2):
        async with any_api.runtime.engine.begin() as tx:
            await recorder.case_event(tx, plan)

    async with any_api.runtime.engine.connect() as conn:
        entries = (
            await conn.execute(
                select(func.count())
                .select_from(audit_entries)
                .where(audit_entries.c.tenant == story.tenant)
            )
        ).scalar_one()
        versions = (
            await conn.execute(
                select(func.count())
                .select_from(document_versions)
                .where(document_versions.c.source_event_id == str(plan.id))
            )
        ).scalar_one()
    assert entries == 3  # opened, plan event, plan version 1
    assert versions == 1
    assert (await _verify(any_api, story.tenant))["ok"] is True


async def test_concurrent_appends_keep_one_chain(any_api: DocumentApi) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    stories = [CaseStory(tenant=tenant) for _ in range(24)]
    outcomes = await asyncio.gather(*(any_api.feed(s.opened(), s.sick_note()) for s in stories))
    assert all(o == [Outcome.HANDLED, Outcome.HANDLED] for o in outcomes)
    async with any_api.runtime.engine.connect() as conn:
        sequences = (
            (
                await conn.execute(
                    select(audit_entries.c.sequence)
                    .where(audit_entries.c.tenant == tenant)
                    .order_by(audit_entries.c.sequence)
                )
            )
            .scalars()
            .all()
        )
    assert list(sequences) == list(range(1, 49))
    verdict = await _verify(any_api, tenant)
    assert verdict["ok"] is True, verdict
    assert verdict["entries_checked"] == 49


def _recorder(api: DocumentApi) -> Recorder:
    subscription = next(s for s in api.runtime.wiring.subscriptions if s.name == CASE_EVENTS)
    recorder = getattr(subscription.handler, "__self__", None)
    assert isinstance(recorder, Recorder)
    return recorder
