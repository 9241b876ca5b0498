"""The summary projection and its readers on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from case_service.adapters.statistics import StatisticsReader
from case_service.adapters.summary import SummaryRows
from case_service.adapters.summary_reader import Cursor, SummaryFilters, SummaryReader
from case_service.adapters.tables import read_models
from case_service.app.queries import CaseSummaries
from case_service.app.summary_projection import CaseSummaryProjection, StreamTenantMismatch
from naervaer.auth.policy import can_read_case
from naervaer.auth.principal import Principal, Role
from naervaer.envelope import Envelope
from naervaer.privacy.sealing import ERASED

from .builders import (
    closed,
    envelopes,
    graded,
    meeting_held,
    note,
    opened,
    plan_created,
    reassigned,
    self_cert,
    vault,
)

pytestmark = pytest.mark.integration
TABLE = read_models.case_summaries


async def feed(engine: AsyncEngine, items: list[Envelope]) -> CaseSummaryProjection:
    projection = CaseSummaryProjection(SummaryRows(read_models), vault(engine))
    for envelope in items:
        async with engine.begin() as tx:
            await projection.handle(tx, envelope)
    return projection


async def row(engine: AsyncEngine, case_id: str = "case-1") -> dict[str, object]:
    async with engine.connect() as connection:
        result = await connection.execute(select(TABLE).where(TABLE.c.case_id == case_id))
        return dict(result.one()._mapping)


async def test_a_case_folds_into_its_row(engine: AsyncEngine) -> None:
    events = [
        opened("2026-01-05", began_with="self_certification"),
        self_cert("2026-01-05", "2026-01-07"),
        note("n1", "2026-01-08", "2026-02-15"),
        graded("n1", "2026-02-02", 60),
        reassigned("mgr-1", "mgr-2", "2026-01-20"),
        plan_created("2026-01-30"),
        meeting_held("m1", 1, "2026-02-10"),
    ]
    await feed(engine, envelopes(events))
    stored = await row(engine)
    assert {k: stored[k] for k in ("tenant", "manager_id", "status", "began_with")} == {
        "tenant": "acme",
        "manager_id": "mgr-2",
        "status": "open",
        "began_with": "self_certification",
    }
    assert stored["case_start"] == date(2026, 1, 5)
    assert stored["last_absence_day"] == date(2026, 2, 15)
    assert (stored["current_grade"], stored["days_absent"]) == (60, 42)
    assert stored["employer_period_end"] == date(2026, 1, 20)
    assert (stored["plan_version"], stored["meetings_held"], stored["version"]) == (1, 1, 7)
    assert [s["source"] for s in stored["absence"]] == [  # type: ignore[attr-defined]
        "self_certification",
        "sick_note",
        "sick_note",
    ]


async def test_an_event_already_folded_changes_nothing(engine: AsyncEngine) -> None:
    items = envelopes([opened("2026-01-05"), note("n1", "2026-01-05", "2026-01-18")])
    await feed(engine, items)
    before = await row(engine)
    stale = envelopes([closed("2026-01-10")], first_version=2)  # a version seen already
    await feed(engine, [items[0], *stale])
    assert await row(engine) == before


async def test_another_tenant_never_merges_into_a_case(engine: AsyncEngine) -> None:
    await feed(engine, envelopes([opened("2026-01-05")]))
    foreign = envelopes([closed("2026-01-10")], tenant="globex", first_version=2)
    with pytest.raises(StreamTenantMismatch):
        await feed(engine, foreign)


async def test_reset_empties_the_projection(engine: AsyncEngine) -> None:
    projection = await feed(engine, envelopes([opened("2026-01-05")]))
    async with engine.begin() as tx:
        await projection.reset(tx)
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(TABLE))).scalar() == 0


CASES = [  # (case, tenant, employee, manager, unit, first day)
    ("c1", "acme", "e1", "m1", "warehouse", "2026-01-05"),
    ("c2", "acme", "e2", "m1", "office", "2026-01-12"),
    ("c3", "acme", "e3", "m2", "warehouse", "2026-01-12"),
    ("c4", "acme", "m1", "m2", "office", "2026-02-02"),  # manager m1 is off sick themselves
    ("c5", "globex", "e1", "m1", "warehouse", "2026-01-05"),  # same ids, other tenant
]


async def seed(engine: AsyncEngine) -> None:
    for case_id, tenant, employee, manager, unit, first in CASES:
        events = [
            opened(first, case_id=case_id, employee=employee, manager=manager, unit=unit),
            note(f"{case_id}-n", first, "2026-02-20", case_id=case_id),
        ]
        await feed(engine, envelopes(events, tenant=tenant))
    await feed(engine, envelopes([closed("2026-01-20", case_id="c2")], first_version=3))


async def test_the_listing_applies_the_access_policy_in_sql(engine: AsyncEngine) -> None:
    await seed(engine)
    reader = CaseSummaries(SummaryReader(engine, read_models))
    # Every case of every tenant, each judged by the policy itself.
    everything = [summary for c in CASES if (summary := await reader.get(c[0])) is not None]
    assert len(everything) == len(CASES)
    for roles in itertools.chain.from_iterable(
        itertools.combinations(list(Role), n) for n in range(3)
    ):
        for subject in ("e1", "m1", "m2", "nobody"):
            caller = Principal(subject, "acme", frozenset(roles))
            page, _ = await reader.visible_to(caller, SummaryFilters(), limit=50, after=None)
            seen = {summary.case_id for summary in page}
            allowed = {s.case_id for s in everything if can_read_case(caller, s.ref()).allowed}
            assert seen == allowed, (roles, subject)
            assert "c5" not in seen


async def test_filters_and_pages(engine: AsyncEngine) -> None:
    await seed(engine)
    reader = CaseSummaries(SummaryReader(engine, read_models))
    hr = Principal("hr-1", "acme", frozenset({Role.HR}))
    ids = [
        s.case_id for s in (await reader.visible_to(hr, SummaryFilters(), limit=50, after=None))[0]
    ]
    assert ids == ["c4", "c3", "c2", "c1"]  # newest case start first, then case id
    first, cursor = await reader.visible_to(hr, SummaryFilters(), limit=2, after=None)
    assert [s.case_id for s in first] == ["c4", "c3"]
    assert cursor == Cursor(date(2026, 1, 12), "c3")
    assert Cursor.decode(cursor.encode()) == cursor
    second, end = await reader.visible_to(hr, SummaryFilters(), limit=2, after=cursor)
    assert ([s.case_id for s in second], end) == (["c2", "c1"], None)
    unit = SummaryFilters(org_unit="warehouse", manager_id="m2")
    assert [s.case_id for s in (await reader.visible_to(hr, unit, limit=50, after=None))[0]] == [
        "c3"
    ]
    gone = SummaryFilters(status="closed")
    assert [s.case_id for s in (await reader.visible_to(hr, gone, limit=50, after=None))[0]] == [
        "c2"
    ]
    assert await reader.get("nope") is None


async def test_statistics_read_one_units_cases_of_one_tenant(engine: AsyncEngine) -> None:
    await seed(engine)
    reader = StatisticsReader(engine, read_models)
    cases = await reader.unit_cases(
        "acme", "warehouse", since=date(2026, 1, 1), until=date(2026, 1, 31)
    )
    assert [(c.case_id, c.employee_id) for c in cases] == [("c1", "e1"), ("c3", "e3")]
    assert cases[0].absence[0]["start"] == "2026-01-05"
    later = await reader.unit_cases(
        "acme", "office", since=date(2026, 3, 1), until=date(2026, 3, 31)
    )
    assert later == []


async def test_an_opening_that_reads_erased_makes_no_row(engine: AsyncEngine) -> None:
    """A redelivered event of an erased case (its key destroyed) must not bring a row back."""
    events = [opened("2026-01-05", employee=ERASED), note("n1", "2026-01-05", "2026-01-20")]
    await feed(engine, envelopes(events))
    async with engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(TABLE))).scalar() == 0
