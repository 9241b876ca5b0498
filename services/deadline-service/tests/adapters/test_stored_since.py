"""Which events a case has stored since its kept facts (issue 8, next step 38): only those
after the last version folded are listed, with an exact answer whether the versions up to it
are still the ones folded; on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.stored import Since, Stored, stored_since
from deadline_service.adapters.tables import case_events

CASE, OTHER, EMPTY = "case-since", "case-other", "case-empty"


async def _store(engine: AsyncEngine, case_id: str, versions: list[int]) -> dict[int, UUID]:
    ids = {version: uuid4() for version in versions}
    rows = [
        {
            "case_id": case_id,
            "stream_version": version,
            "event_id": event_id,
            "type": "SickNoteReceived",
            "schema_version": 1,
            "data": {},
        }
        for version, event_id in ids.items()
    ]
    async with engine.begin() as tx:
        await tx.execute(insert(case_events), rows)
    return ids


async def _ask(engine: AsyncEngine, *asked: Since) -> dict[str, Stored]:
    async with engine.connect() as conn:
        return await stored_since(conn, asked)


async def test_only_the_events_after_the_folded_ones_are_listed(
    deadline_engine: AsyncEngine,
) -> None:
    ids = await _store(deadline_engine, CASE, [1, 2, 5, 7, 10])
    other = await _store(deadline_engine, OTHER, [1, 2, 3])
    found = await _ask(
        deadline_engine, Since.of(CASE, [1, 2, 5]), Since.of(OTHER, []), Since.of(EMPTY, [])
    )
    assert found[CASE] == Stored([(7, ids[7]), (10, ids[10])], intact=True)
    assert found[OTHER] == Stored(sorted(other.items()), intact=True)  # nothing kept: all
    assert found[EMPTY] == Stored([], intact=True)
    assert (await _ask(deadline_engine, Since.of(CASE, [1, 2, 5, 7, 10])))[CASE] == Stored(
        [], intact=True
    )


async def test_the_check_tells_any_other_versions_up_to_the_last_folded(
    deadline_engine: AsyncEngine,
) -> None:
    await _store(deadline_engine, CASE, [1, 3, 5, 6])
    for folded in ([1, 5], [1, 2, 3, 5], [3, 5], [1, 3, 4], [2]):
        assert not (await _ask(deadline_engine, Since.of(CASE, folded)))[CASE].intact, folded
    assert not (await _ask(deadline_engine, Since.of(EMPTY, [1, 2])))[EMPTY].intact


async def test_one_event_deleted_and_another_stored_below_is_no_longer_intact(
    deadline_engine: AsyncEngine,
) -> None:
    await _store(deadline_engine, CASE, [1, 3, 5, 6])
    async with deadline_engine.begin() as tx:
        await tx.execute(
            delete(case_events).where(
                case_events.c.case_id == CASE, case_events.c.stream_version == 3
            )
        )
    await _store(deadline_engine, CASE, [2])  # as many versions up to 5 as were folded
    found = (await _ask(deadline_engine, Since.of(CASE, [1, 3, 5])))[CASE]
    assert not found.intact
    assert [version for version, _ in found.events] == [6]


async def test_a_case_with_nothing_kept_lists_every_version_it_holds(
    deadline_engine: AsyncEngine,
) -> None:
    ids = await _store(deadline_engine, CASE, [0, 1])  # no envelope has 0; a row could
    assert (await _ask(deadline_engine, Since.of(CASE, [])))[CASE] == Stored(
        sorted(ids.items()), intact=True
    )
    found = (await _ask(deadline_engine, Since.of(CASE, [1])))[CASE]
    assert not found.intact  # 0 is stored below the one folded
