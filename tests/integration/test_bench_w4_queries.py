"""W4's latency queries name every event a run committed: tens of thousands at the rates the
search tries, more than the 32 767 values one statement may bind (a run at 920 events/s for
45 s once failed so). They pass the ids as one array. The stages query finds each event's
outbox row, whether the row names its event alone or its append's range."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.appender import CaseLog
from bench.services import Deployment, migrate
from bench.w4_latency import _commit_to_commit, _stages
from bench.watcher import CONSUMER
from naervaer.contracts import case as c
from naervaer.eventstore import EventStore, NewEvent
from naervaer.eventstore.tables import EventStoreTables
from naervaer.hosting import select_services
from naervaer.testing.servers import LocalPostgres

pytestmark = pytest.mark.integration

UNKNOWN = 40_000  # ids of events the run never committed, beside the three it did


@pytest.fixture(scope="module")
def timestamped_server() -> Iterator[str]:
    """A server that keeps commit timestamps, as the harness's own does."""
    server = LocalPostgres(commit_timestamps=True)
    server.start()
    try:
        yield server.url
    finally:
        server.destroy()


def case_tables() -> EventStoreTables:
    (spec,) = select_services(["case"])
    assert spec.event_store is not None
    return spec.event_store


def _opening(case_id: str) -> NewEvent:
    note = c.CaseOpened(
        case_id=case_id, employee_id="emp-1", manager_id="mgr-1",
        org_unit="u", first_absence_day="2026-03-02", began_with="sick_note",
    )  # fmt: skip
    return NewEvent("case.opened", note)


async def test_the_latency_queries_take_more_ids_than_a_statement_can_bind(
    timestamped_server: str, tmp_path: Path
) -> None:
    await migrate(Deployment(timestamped_server, tmp_path), ["case", "deadline"])
    log = CaseLog.open(timestamped_server, "case-events", pool_size=1)
    ranges = EventStore(
        log.engine,
        case_tables(),
        source="/case-service",
        outbox_topic="case-events",
        outbox_row_per_append=True,
    )
    try:
        committed: dict[str, float] = {}
        for number in range(3):  # a row per event
            case_id = f"case-{number}"
            result = await log.store.append(
                case_id, [_opening(case_id)], tenant="acme", expected_version=0
            )
            committed[str(result.envelopes[0].id)] = 0.0
        appended = await ranges.append(  # one row naming the append's five events
            "case-9", [_opening("case-9") for _ in range(5)], tenant="acme", expected_version=0
        )
        committed.update((str(envelope.id), 0.0) for envelope in appended.envelopes)
        async with log.engine.begin() as connection:
            await connection.execute(  # 2 s in the relay (the range: 4 s), then 3 s more
                text(
                    "UPDATE case_service.outbox SET published_through = last_position, "
                    "published_at = created_at + CASE WHEN last_position IS NULL "
                    "THEN interval '2 s' ELSE interval '4 s' END"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO deadline_service.inbox (consumer, event_id, handled_at) "
                    "SELECT :consumer, e.event_id, o.published_at + interval '3 s' "
                    "FROM case_service.events AS e JOIN case_service.outbox AS o "
                    "ON e.global_position BETWEEN o.global_position "
                    "AND coalesce(o.last_position, o.global_position)"
                ),
                {"consumer": CONSUMER},
            )
            events_with_a_row = await connection.scalar(
                text("SELECT count(*) FROM deadline_service.inbox")
            )
        committed.update((str(uuid.uuid4()), 0.0) for _ in range(UNKNOWN))

        latencies = await _commit_to_commit(log, committed)
        stages = await _stages(log, committed)
    finally:
        await log.close()

    assert events_with_a_row == 8
    assert latencies is not None
    assert len(latencies) == 8
    assert stages == {"relay_p50_ms": 4000.0, "delivery_p50_ms": 3000.0}  # the range's 5 of 8
