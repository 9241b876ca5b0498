"""``bench.fold_ab`` at a tiny size on the test session's PostgreSQL: both timelines (folded on
from kept facts, and folded from every stored event) write the same rows for a generated
year, the figures are there, and the collector is left as it was. It asserts no timing."""

from __future__ import annotations

import gc
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.fold_ab import run
from naervaer.testing.pytest_plugin import temporary_database


async def test_folding_on_writes_what_folding_every_event_writes(postgres_url: str) -> None:
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    async with temporary_database(postgres_url) as url:
        outcome = await run(url, cases=60, batch=7)
    # it collected as a service does while timing, and leaves the test process as it was
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() == frozen
    assert outcome.events > 100
    assert outcome.same_rows
    assert outcome.cases_kept_folded > 0  # the second timeline did fold on
    assert set(outcome.cpu_us) == {"refold", "fold_on"}
    # the test session's server runs on this machine: its backends' CPU is read
    assert all(us is not None and us > 0 for us in outcome.server_us.values()), outcome
    assert all(len(tenths) == 10 for tenths in outcome.tenths_us.values())
