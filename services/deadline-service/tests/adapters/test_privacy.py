"""Crypto-shredding in the deadline service, on SQLite and PostgreSQL: notices sealed with the
case's employee key, nothing published once that key is destroyed, and erasure deleting every
row about the erased cases, for good (redeliveries and rebuilds bring nothing back).

The case events are appended as the case service appends them: sealed with the employee's key
from the key vault; the erasure is the case service's shredding plus its erasure event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.scheduler import DeadlineScheduler
from deadline_service.adapters.tables import (
    cases,
    consumers,
    erased_cases,
    event_store,
    metadata,
    obligations,
    timers,
)
from naervaer.contracts import CONTRACTS
from naervaer.contracts.deadline import DeadlineNotice
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.messaging import rebuild
from naervaer.privacy import ERASED, KEYRING, sealed_key_ids
from naervaer.privacy.keyvault import KeyVault
from naervaer.privacy.sealer import Sealer

from ..builders import CaseScript
from ..conftest import CaseLog, FakeClock, deadline_store, project, project_together, snapshot
from .test_projection import earlier_case, worked_example

OSLO = ZoneInfo("Europe/Oslo")
DERIVED = ("cases", "case_events", "obligations", "timers")
TABLES = (*DERIVED, "erased_cases")
NOTHING: dict[str, list[Any]] = {name: [] for name in DERIVED}
ERASED_EMPLOYEE, KEPT_EMPLOYEE = "emp-4711-erased", "emp-0815-kept"


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00").replace(tzinfo=OSLO)


def sick_case(case_id: str, employee_id: str, start: str = "2025-03-03") -> CaseScript:
    case = CaseScript(start, case_id=case_id, employee_id=employee_id, manager_id="mgr-77")
    case.note(start, "2025-12-31")
    return case


def scheduler(engine: AsyncEngine, clock: FakeClock, vault: KeyVault) -> DeadlineScheduler:
    return DeadlineScheduler(engine, deadline_store(engine, clock), clock, Sealer(vault), zone=OSLO)


async def notices(engine: AsyncEngine) -> list[Envelope]:
    return await deadline_store(engine).read_all(0, 100_000)


async def rows_about(engine: AsyncEngine, case_ids: set[str]) -> dict[str, list[Any]]:
    """Every row of every projection table naming one of ``case_ids``."""
    found = {}
    async with engine.connect() as conn:
        for name in DERIVED:
            table = metadata.tables[name]
            rows = await conn.execute(select(table).where(table.c.case_id.in_(case_ids)))
            found[name] = list(rows)
    return found


def erasure_of(key_id: str, case_ids: list[str]) -> PersonalDataErased:
    return PersonalDataErased(
        key_id=key_id,
        case_ids=case_ids,
        erased_on=date(2029, 1, 2),
        basis="retention_expired",
        retention_months=36,
        last_closed_on=date(2025, 12, 31),
    )


@dataclass
class Erasure:
    """Two employees, one of whom (two cases) is erased once some notices went out."""

    key_id: str
    erased: set[str]
    kept: str
    before: list[Envelope]  # the case events as first delivered


async def erase_one_of_two(
    engine: AsyncEngine, log: CaseLog, vault: KeyVault, clock: FakeClock
) -> Erasure:
    first, second = sick_case("case-e1", ERASED_EMPLOYEE), sick_case("case-e2", ERASED_EMPLOYEE)
    key_id = await log.append_sealed(first.case_id, first.payloads(), vault, ERASED_EMPLOYEE)
    await log.append_sealed(second.case_id, second.payloads(), vault, ERASED_EMPLOYEE)
    kept = sick_case("case-k", KEPT_EMPLOYEE)
    await log.append_sealed(kept.case_id, kept.payloads(), vault, KEPT_EMPLOYEE)
    before = await log.envelopes()
    await project(engine, before, keys=vault)
    assert await scheduler(engine, clock, vault).tick() > 0  # fired timers are rows too
    await vault.shred(key_id)  # the case service destroys the key, then says so
    erased = erasure_of(key_id, [first.case_id, second.case_id])
    await log.append("employee-stream-1", [erased])
    await project(engine, (await log.envelopes())[len(before) :], keys=vault)
    return Erasure(key_id, {first.case_id, second.case_id}, kept.case_id, before)


async def test_notices_are_sealed_with_the_cases_key(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    case = sick_case("case-s", ERASED_EMPLOYEE)
    key_id = await case_log.append_sealed(case.case_id, case.payloads(), vault, ERASED_EMPLOYEE)
    await project(deadline_engine, await case_log.envelopes(), keys=vault)
    async with deadline_engine.connect() as conn:
        assert (await conn.execute(select(cases.c.key_id))).scalars().all() == [key_id]

    assert await scheduler(deadline_engine, FakeClock(at("2025-03-24")), vault).tick() == 3

    async with deadline_engine.connect() as conn:
        stored = [tuple(row) for row in await conn.execute(select(event_store.events))]
        copied = [tuple(row) for row in await conn.execute(select(metadata.tables["case_events"]))]
    assert len(stored) == 3
    for raw in (repr(stored), repr(copied)):  # a raw search finds no plaintext
        assert ERASED_EMPLOYEE not in raw
        assert "mgr-77" not in raw
    sent = await notices(deadline_engine)
    assert {frozenset(sealed_key_ids(envelope.data)) for envelope in sent} == {frozenset({key_id})}
    await KEYRING.load(sent, vault)
    opened = [CONTRACTS.payload(envelope) for envelope in sent]
    assert all(isinstance(notice, DeadlineNotice) for notice in opened)
    assert {(n.employee_id, n.manager_id) for n in opened} == {(ERASED_EMPLOYEE, "mgr-77")}  # type: ignore[attr-defined]


async def test_nothing_is_published_for_a_case_whose_key_is_destroyed(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """The key is gone before the erasure event arrives: the due notices are withheld."""
    gone, kept = sick_case("case-gone", ERASED_EMPLOYEE), sick_case("case-kept", KEPT_EMPLOYEE)
    key_id = await case_log.append_sealed(gone.case_id, gone.payloads(), vault, ERASED_EMPLOYEE)
    await case_log.append_sealed(kept.case_id, kept.payloads(), vault, KEPT_EMPLOYEE)
    await project(deadline_engine, await case_log.envelopes(), keys=vault)
    await vault.shred(key_id)
    clock = FakeClock(at("2025-03-24"))
    ticking = scheduler(deadline_engine, clock, vault)

    assert await ticking.tick() == 3  # the kept case's three; none of the other's
    assert {envelope.streamid for envelope in await notices(deadline_engine)} == {"case-kept"}
    assert await ticking.pending() == 0  # settled, not retried forever
    async with deadline_engine.connect() as conn:
        settled = await conn.execute(
            select(timers.c.fired_at, timers.c.event_id).where(
                timers.c.case_id == gone.case_id, timers.c.fired_at.is_not(None)
            )
        )
        assert {event_id for _, event_id in settled} == {None}  # withheld: no event


async def test_erasure_deletes_everything_about_the_cases(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    clock = FakeClock(at("2025-03-24"))
    erasure = await erase_one_of_two(deadline_engine, case_log, vault, clock)

    assert await rows_about(deadline_engine, erasure.erased) == NOTHING
    kept = await rows_about(deadline_engine, {erasure.kept})
    assert all(kept[name] for name in DERIVED), "the other employee's rows must stay"
    async with deadline_engine.connect() as conn:
        tombstones = set((await conn.execute(select(erased_cases.c.case_id))).scalars())
    assert tombstones == erasure.erased
    assert KEYRING.lookup(erasure.key_id) is None

    # redelivered events store nothing again, and nothing more is ever sent for the cases
    await project(deadline_engine, erasure.before, keys=vault)
    assert await rows_about(deadline_engine, erasure.erased) == NOTHING
    earlier = [e for e in await notices(deadline_engine) if e.streamid in erasure.erased]
    clock.set(at("2026-06-30"))
    assert await scheduler(deadline_engine, clock, vault).tick() > 0  # the kept case's
    sent = [e for e in await notices(deadline_engine) if e.streamid in erasure.erased]
    assert sent == earlier
    # what was sent before stays in the log, unreadable for good
    await KEYRING.load(earlier, vault)
    assert {CONTRACTS.payload(e).employee_id for e in earlier} == {ERASED}  # type: ignore[attr-defined]


async def test_a_rebuild_after_erasure_holds_nothing_about_the_cases(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    erasure = await erase_one_of_two(deadline_engine, case_log, vault, FakeClock(at("2025-03-24")))
    live = await snapshot(deadline_engine, *TABLES)
    projection = await project(deadline_engine, [], keys=vault)

    applied = await rebuild(projection, deadline_engine, consumers, case_log.store, keys=vault)

    assert applied == len(await case_log.envelopes())
    assert await rows_about(deadline_engine, erasure.erased) == NOTHING
    assert await snapshot(deadline_engine, *TABLES) == live


async def test_late_events_of_an_erased_case_store_nothing(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """Kafka orders per key only: a case event may come after the employee's erasure event.
    Unsealed (written before sealing), it cannot tell it was erased; the erased case can."""
    case, foreign = sick_case("case-old", "emp-legacy"), sick_case("case-other", "emp-legacy")
    await case_log.append(foreign.case_id, foreign.payloads(), tenant="other")
    erased = erasure_of("0" * 32, [case.case_id, foreign.case_id])
    await case_log.append("employee-legacy", [erased])
    await case_log.append(case.case_id, case.payloads())

    await project(deadline_engine, await case_log.envelopes(), keys=vault)

    assert await rows_about(deadline_engine, {case.case_id}) == NOTHING
    async with deadline_engine.connect() as conn:  # an erasure never reaches another tenant
        assert (await conn.execute(select(cases.c.case_id))).scalars().all() == ["case-other"]


@pytest.mark.parametrize("batched", [False, True], ids=["one by one", "in a batch"])
async def test_an_erasure_counts_only_for_its_own_tenant(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault, batched: bool
) -> None:
    """Another tenant's erasure naming a case id before its case is known (a malformed event,
    or the cases' partitions met in another order) neither hides the case's events from its
    own tenant nor keeps that tenant's own erasure of it from being recorded."""
    case = sick_case("case-shared-id", "emp-1")
    await case_log.append("employee-other", [erasure_of("1" * 32, [case.case_id])], tenant="other")
    projection = await project(deadline_engine, await case_log.envelopes(), keys=vault)
    await case_log.append(case.case_id, case.payloads())
    envelopes = (await case_log.envelopes())[1:]
    await project_together(deadline_engine, projection, envelopes, vault, batched=batched)

    kept = await rows_about(deadline_engine, {case.case_id})
    assert all(kept[name] for name in DERIVED), "acme's case must be projected"
    await case_log.append("employee-1", [erasure_of("2" * 32, [case.case_id])])
    await project(deadline_engine, (await case_log.envelopes())[-1:], keys=vault)
    assert await rows_about(deadline_engine, {case.case_id}) == NOTHING
    async with deadline_engine.connect() as conn:
        tombstones = await conn.execute(select(erased_cases.c.tenant, erased_cases.c.case_id))
        assert sorted(tombstones) == [("acme", case.case_id), ("other", case.case_id)]


async def test_events_sealed_with_a_destroyed_key_store_nothing(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """The key was shredded and the erasure event is still on its way: events with sealed
    values read as erased and are not stored (no case row for an ``[erased]`` employee).
    Events with nothing personal wait as if before case.opened, until the erasure event."""
    case = sick_case("case-late", ERASED_EMPLOYEE)
    key_id = await case_log.append_sealed(case.case_id, case.payloads(), vault, ERASED_EMPLOYEE)
    await vault.shred(key_id)
    KEYRING.forget(key_id)  # as in any process that reads the vault after the shredding

    await project(deadline_engine, await case_log.envelopes(), keys=vault)

    waiting = await rows_about(deadline_engine, {case.case_id})
    assert {name for name, rows in waiting.items() if rows} == {"case_events"}
    assert all(not sealed_key_ids(row.data) for row in waiting["case_events"])
    await case_log.append("employee-stream-1", [erasure_of(key_id, [case.case_id])])
    await project(deadline_engine, (await case_log.envelopes())[-1:], keys=vault)
    assert await rows_about(deadline_engine, {case.case_id}) == NOTHING


async def test_a_later_case_stops_counting_the_erased_sick_pay_days(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    """ftrl § 8-12 counts the sick-pay days of earlier cases; once those are erased the later
    case (a new key: it was opened after the shredding) no longer counts them, live as after
    a rebuild."""
    earlier, later = earlier_case(), worked_example()
    old_key = await case_log.append_sealed(earlier.case_id, earlier.payloads(), vault, "emp-1")
    await project(deadline_engine, await case_log.envelopes(), keys=vault)
    await vault.shred(old_key)
    new_key = await case_log.append_sealed(later.case_id, later.payloads(), vault, "emp-1")
    assert new_key != old_key
    await project(deadline_engine, (await case_log.envelopes())[-2:], keys=vault)
    assert await max_date(deadline_engine, later.case_id) == date(2018, 10, 17)  # 52 days counted

    await case_log.append("employee-stream-1", [erasure_of(old_key, [earlier.case_id])])
    projection = await project(deadline_engine, (await case_log.envelopes())[-1:], keys=vault)

    assert await max_date(deadline_engine, later.case_id) == date(2018, 12, 28)  # none counted
    live = await snapshot(deadline_engine, *TABLES)
    await rebuild(projection, deadline_engine, consumers, case_log.store, keys=vault)
    assert await snapshot(deadline_engine, *TABLES) == live


async def max_date(engine: AsyncEngine, case_id: str) -> date | None:
    async with engine.connect() as conn:
        found = await conn.execute(
            select(obligations.c.due_date).where(
                obligations.c.case_id == case_id, obligations.c.kind == "max_date"
            )
        )
        return found.scalar()
