"""Access records (innsynslogg) that reach the document service before their case: held, never in
the trail in clear; released sealed with the case's key by its first event, exactly once and in
order; released nameless by an erasure that comes first (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update

from document_service.adapters.tables import audit_entries, held_access_records
from document_service.app.access_feed import HOLD_FOR
from document_service.app.sealing import open_sealed
from naervaer.auth.access import AccessRecord
from naervaer.envelope import Envelope
from naervaer.messaging import Outcome
from naervaer.privacy import ERASED, sealed_key_ids

from ..harness import DocumentApi
from ..privacy import PrivateCase
from .test_keys_and_access import _access_envelope, _recorder
from .test_privacy import _erase, _leaks

ACCESS_EVENTS = "document-service.access-events"


def _read_by(case: PrivateCase, reader: str, *, tenant: str | None = None) -> Envelope:
    """``reader`` read the case in the case service, published on access-events."""
    at = datetime(2026, 3, 2, 8, tzinfo=UTC) + timedelta(seconds=len(reader))
    record = AccessRecord(
        tenant=tenant or case.tenant,
        subject=reader,
        roles=["manager"],
        basis_role="manager",
        action="read",
        operation="read",
        resource="case",
        resource_id=case.story.case_id,
        case_id=case.story.case_id,
        at=at,
        reason="manages the case",
    )
    return _access_envelope(record, source="/case-service")


async def _entries(api: DocumentApi, tenant: str) -> list[dict[str, Any]]:
    """The tenant's access entries in the trail, in chain order (data as sealed)."""
    async with api.runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(audit_entries.c.content)
            .where(audit_entries.c.tenant == tenant, audit_entries.c.kind == "access.recorded")
            .order_by(audit_entries.c.sequence)
        )
        return [content["data"] for content in rows.scalars()]


async def _held(api: DocumentApi, case_id: str) -> int:
    async with api.runtime.engine.connect() as conn:
        query = select(func.count()).where(held_access_records.c.case_id == case_id)
        return int((await conn.execute(query)).scalar_one())


async def _opened(values: list[dict[str, Any]], api: DocumentApi) -> list[str]:
    """The readers of sealed entries, opened with the case's key."""
    return [data["subject"] for data in await open_sealed(api.runtime.vault, values)]


async def test_a_record_before_its_case_is_held_then_sealed_in_order(
    any_api: DocumentApi,
) -> None:
    case = PrivateCase(any_api)
    first, second = f"reader-a-{case.mark}", f"reader-bb-{case.mark}"
    fed = await any_api.feed(
        _read_by(case, first), _read_by(case, second), subscription=ACCESS_EVENTS
    )
    assert fed == [Outcome.HANDLED, Outcome.HANDLED]
    assert await _entries(any_api, case.tenant) == []
    assert await _held(any_api, case.story.case_id) == 2
    # Held in its own table, nowhere in the trail.
    assert set(await _leaks(any_api, [first, second])) == {"held_access_records"}

    opened = await case.sealed(case.story.opened())
    assert await any_api.feed(opened) == [Outcome.HANDLED]
    sealed = await _entries(any_api, case.tenant)
    assert all(data["subject"].startswith("pd1.") for data in sealed)
    assert {key for data in sealed for key in sealed_key_ids(data)} == sealed_key_ids(opened.data)
    assert await _opened(sealed, any_api) == [first, second]  # in the order received
    assert await _held(any_api, case.story.case_id) == 0
    assert await _leaks(any_api, [first, second]) == {}


async def test_redelivered_records_and_events_are_sealed_exactly_once(
    any_api: DocumentApi,
) -> None:
    case = PrivateCase(any_api)
    reader = f"reader-{case.mark}"
    read = _read_by(case, reader)
    recorder = _recorder(any_api)
    await any_api.feed(read, read, subscription=ACCESS_EVENTS)  # the inbox skips the second
    async with any_api.runtime.engine.begin() as tx:  # past the inbox: the held row dedupes
        await recorder.access_record(tx, read)
    assert await _held(any_api, case.story.case_id) == 1

    opened = await case.sealed(case.story.opened())
    await any_api.feed(opened, opened)
    for envelope in (opened, read):  # past the inbox again, after the release
        async with any_api.runtime.engine.begin() as tx:
            handle = recorder.case_event if envelope is opened else recorder.access_record
            await handle(tx, envelope)
    await any_api.feed(read, subscription=ACCESS_EVENTS)

    sealed = await _entries(any_api, case.tenant)
    assert await _opened(sealed, any_api) == [reader]
    assert await _held(any_api, case.story.case_id) == 0


async def test_an_erasure_before_the_case_leaves_no_name(any_api: DocumentApi) -> None:
    case = PrivateCase(any_api)
    reader = f"reader-{case.mark}"
    await any_api.feed(_read_by(case, reader), subscription=ACCESS_EVENTS)
    opened = await case.sealed(case.story.opened())  # sealed with the employee's key
    await _erase(case)  # the erasure overtakes the case's first event

    (nameless,) = await _entries(any_api, case.tenant)
    assert (nameless["subject"], nameless["resource_id"]) == (ERASED, ERASED)
    assert nameless["case_id"] == case.story.case_id
    assert await _held(any_api, case.story.case_id) == 0
    assert await any_api.feed(opened) == [Outcome.HANDLED]  # late: derives nothing
    assert await any_api.feed(_read_by(case, reader), subscription=ACCESS_EVENTS) == [
        Outcome.HANDLED
    ]
    entries = await _entries(any_api, case.tenant)
    assert [e["subject"] for e in entries] == [ERASED, ERASED]
    assert await _leaks(any_api, [reader, case.employee, case.manager]) == {}


async def test_records_without_a_case_or_of_another_tenant_keep_their_way(
    any_api: DocumentApi,
) -> None:
    case = PrivateCase(any_api)
    stranger = f"stranger-{case.mark}"
    foreign = f"t-other-{case.mark}"
    await any_api.feed(
        _read_by(case, stranger, tenant=foreign),
        _access_envelope(_export_of(case), source="/case-service"),
        subscription=ACCESS_EVENTS,
    )
    exported = await _entries(any_api, case.tenant)
    assert [(e["operation"], e.get("case_id")) for e in exported] == [("export", None)]
    await any_api.feed(await case.sealed(case.story.opened()))
    # A reader of another tenant is not the case's business: kept as published, as before.
    assert [e["subject"] for e in await _entries(any_api, foreign)] == [stranger]
    assert await _held(any_api, case.story.case_id) == 0


async def test_a_record_whose_case_never_comes_enters_the_trail_after_the_hold(
    any_api: DocumentApi,
) -> None:
    """A refused attempt to open a case names a case that will never exist: past ``HOLD_FOR``
    its record is appended as it would have been unheld (in clear: no such case, no key)."""
    never = PrivateCase(any_api)
    late, fresh = f"refused-{never.mark}", f"reader-{never.mark}"
    await any_api.feed(_read_by(never, late), subscription=ACCESS_EVENTS)
    async with any_api.runtime.engine.begin() as tx:  # held since before the hold's end
        past = datetime.now(UTC) - HOLD_FOR - timedelta(seconds=1)
        await tx.execute(
            update(held_access_records)
            .where(held_access_records.c.case_id == never.story.case_id)
            .values(held_at=past)
        )
    # Another case's record, still within the hold, comes next: it stays held.
    other = PrivateCase(any_api)
    await any_api.feed(_read_by(other, fresh), subscription=ACCESS_EVENTS)

    assert [e["subject"] for e in await _entries(any_api, never.tenant)] == [late]
    assert await _held(any_api, never.story.case_id) == 0
    assert await _held(any_api, other.story.case_id) == 1
    assert [
        e["subject"] for e in await _entries(any_api, other.tenant) if e["subject"] == fresh
    ] == []


def _export_of(case: PrivateCase) -> AccessRecord:
    return AccessRecord(
        tenant=case.tenant,
        subject="hr-1",
        roles=["hr"],
        basis_role="hr",
        action="read",
        operation="export",
        resource="personal-data",
        resource_id=case.employee,
        at=datetime(2026, 3, 2, 8, tzinfo=UTC),
        reason="hr of the tenant",
    )


async def test_a_record_racing_the_cases_first_event_waits_for_it(pg_api: DocumentApi) -> None:
    """PostgreSQL: the record's transaction decides after the case's commits, never before."""
    case = PrivateCase(pg_api)
    reader = f"reader-{case.mark}"
    recorder = _recorder(pg_api)
    engine = pg_api.runtime.engine
    opened = await case.sealed(case.story.opened())
    async with engine.begin() as first_event:
        await recorder.case_event(first_event, opened)  # released nothing: nothing held yet

        async def read() -> None:
            async with engine.begin() as tx:
                await recorder.access_record(tx, _read_by(case, reader))

        racing = asyncio.create_task(read())
        await _until_waiting(engine, racing)
    await racing
    assert await _opened(await _entries(pg_api, case.tenant), pg_api) == [reader]
    assert await _held(pg_api, case.story.case_id) == 0


async def _until_waiting(engine: Any, task: asyncio.Task[None]) -> None:
    """Poll (with a deadline) until a transaction waits for a lock; fail if ``task`` ends."""
    deadline = asyncio.get_running_loop().time() + 10
    query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    while not task.done():
        async with engine.connect() as conn:
            if (await conn.execute(query)).scalar_one() > 0:
                return
        assert asyncio.get_running_loop().time() < deadline, "the record never waited"
        await asyncio.sleep(0.01)
    raise AssertionError(f"the record did not wait for the case's first event: {task}")
