"""W5's calendar-ordered log: the fill's steps split among writers without reordering a case.

Several writers append side by side, so only what one writer appends keeps its order in the
store; every step of a case must therefore go to the same writer, in the calendar's order.
"""

from __future__ import annotations

import itertools
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.w5_rebuild import calendar_steps, handovers
from bench.year import Step

WRITERS = 4


def test_each_case_goes_to_one_writer_with_its_steps_in_calendar_order() -> None:
    steps = list(calendar_steps(3_000))
    by_case: dict[str, list[Step]] = defaultdict(list)
    for step in steps:
        by_case[step.tale.case_id].append(step)

    appended: dict[str, list[Step]] = defaultdict(list)
    writers_of: dict[str, set[int]] = defaultdict(set)
    for writer, batch in handovers(steps, WRITERS, size=25):
        assert 0 < len(batch) <= 25
        for step in batch:
            appended[step.tale.case_id].append(step)
            writers_of[step.tale.case_id].add(writer)

    assert appended == by_case  # every step once, each case's in its calendar order
    assert all(len(writers) == 1 for writers in writers_of.values())
    assert len(set().union(*writers_of.values())) == WRITERS  # the cases are spread


def test_the_calendar_log_interleaves_cases_and_stops_at_whole_steps() -> None:
    steps = list(calendar_steps(3_000))
    events = sum(len(step.events) for step in steps)

    assert 3_000 <= events < 3_000 + max(len(step.events) for step in steps)
    assert [step.day for step in steps] == sorted(step.day for step in steps)
    cases = [step.tale.case_id for step in steps]
    switches = sum(1 for before, after in itertools.pairwise(cases) if before != after)
    assert switches > len(set(cases))  # cases are not stored whole, one after another
