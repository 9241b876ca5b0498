"""``bench.fold_ab`` at a tiny size on the test session's PostgreSQL: both timelines (folded on
from kept facts, and folded from every stored event) write the same rows for a generated
year, the figures are there, the collector is left as it was, and the tables were analysed as
they grew, as the live consumer has them analysed. It asserts no timing."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

import asyncpg  # type: ignore[import-untyped]

from bench.fold_ab import run
from naervaer.db import ANALYSE_FIRST_AT
from naervaer.testing.pytest_plugin import temporary_database


async def test_folding_on_writes_what_folding_every_event_writes(postgres_url: str) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    async with temporary_database(postgres_url) as url:
        outcome = await run(url, cases=120, batch=7)
        analysed = await _analysed_obligations(url)
    # it collected as a service does while timing, and leaves the test process as it was
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
    assert outcome.events > ANALYSE_FIRST_AT
    # by ANALYZE, not by autovacuum: statements planned on near-empty tables otherwise
    # scanned them whole for the rest of the run (twenty-ninth round)
    assert analysed == {"deadline_refold": True, "deadline_fold_on": True}, analysed
    assert outcome.same_rows
    assert outcome.cases_kept_folded > 0  # the second timeline did fold on
    assert set(outcome.cpu_us) == {"refold", "fold_on"}
    # the test session's server runs on this machine: its backends' CPU is read
    assert all(us is not None and us > 0 for us in outcome.server_us.values()), outcome
    assert all(len(tenths) == 10 for tenths in outcome.tenths_us.values())


async def _analysed_obligations(url: str) -> dict[str, bool]:
    """Whether each timeline's obligation table was analysed on request (not by autovacuum)."""
    connection = await asyncpg.connect(url.replace("+asyncpg", "", 1))
    try:
        rows = await connection.fetch(
            "SELECT schemaname, analyze_count > 0 AS analysed FROM pg_stat_user_tables"
            " WHERE relname = 'obligations' AND schemaname LIKE 'deadline_%'"
        )
    finally:
        await connection.close()
    return {row["schemaname"]: row["analysed"] for row in rows}
