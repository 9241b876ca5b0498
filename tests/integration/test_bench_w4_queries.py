"""W4's latency queries name every event a run committed: tens of thousands at the rates the
search tries, more than the 32 767 values one statement may bind (a run at 920 events/s for
45 s once failed so). They pass the ids as one array."""

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
from naervaer.eventstore import NewEvent
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


async def test_the_latency_queries_take_more_ids_than_a_statement_can_bind(
    timestamped_server: str, tmp_path: Path
) -> None:
    await migrate(Deployment(timestamped_server, tmp_path), ["case", "deadline"])
    log = CaseLog.open(timestamped_server, "case-events", pool_size=1)
    try:
        committed: dict[str, float] = {}
        for number in range(3):
            note = c.CaseOpened(
                case_id=f"case-{number}", employee_id="emp-1", manager_id="mgr-1",
                org_unit="u", first_absence_day="2026-03-02", began_with="sick_note",
            )  # fmt: skip
            result = await log.store.append(
                note.case_id, [NewEvent("case.opened", note)], tenant="acme", expected_version=0
            )
            committed[str(result.envelopes[0].id)] = 0.0
        async with log.engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO deadline_service.inbox (consumer, event_id, handled_at) "
                    "SELECT :consumer, event_id, now() FROM case_service.events"
                ),
                {"consumer": CONSUMER},
            )
            await connection.execute(text("UPDATE case_service.outbox SET published_at = now()"))
        committed.update((str(uuid.uuid4()), 0.0) for _ in range(UNKNOWN))

        latencies = await _commit_to_commit(log, committed)
        stages = await _stages(log, committed)
    finally:
        await log.close()

    assert latencies is not None
    assert len(latencies) == 3
    assert set(stages) == {"relay_p50_ms", "delivery_p50_ms"}
