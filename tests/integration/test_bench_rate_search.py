"""W4's search for the highest sustained rate (pure: no services run)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.w4_latency import SEARCH_TRIES, RateSearch


def _run(search: RateSearch, capacity_held: int) -> list[int]:
    """The rates the search runs against a pipeline that holds up to ``capacity_held``."""
    tried: list[int] = []
    target: int | None = search.target
    while target is not None:
        tried.append(target)
        target = search.record(target <= capacity_held)
    return tried


def test_a_first_try_that_holds_ends_the_search() -> None:
    search = RateSearch.start(1000.0, sustained=[200])
    assert _run(search, capacity_held=900) == [800]
    assert search.low == 800


def test_otherwise_it_halves_the_gap_between_a_rate_held_and_one_not() -> None:
    search = RateSearch.start(1000.0, sustained=[200, 1000])  # 1 000 is above the first try
    tried = _run(search, capacity_held=310)
    assert tried == [800, 500, 350, 270]  # (200+800)/2, (200+500)/2, (200+350)/2, rounded down
    assert len(tried) == SEARCH_TRIES
    assert search.low == 270
    assert search.high == 350


def test_with_nothing_held_it_searches_down_from_zero() -> None:
    search = RateSearch.start(400.0, sustained=[])
    tried = _run(search, capacity_held=5)
    assert tried == [320, 160, 80, 40]
    assert search.low == 0  # none held: the report says none
