"""The run arithmetic of ``domain.runs`` agrees with a plain dict of days laid one by one:
laying notes over each other, returns to work (friskmelding), the last case, the cut at the
end, and weekday counting."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from deadline_service.domain.runs import (
    Day,
    Run,
    cut,
    last_case,
    lower_from,
    overwrite,
    spans,
    weekday_blocks,
    weekday_ordinals,
    weekdays,
)

BASE = date(2024, 1, 1).toordinal()
EXAMPLES = settings(max_examples=400, deadline=None)

_lays = st.tuples(
    st.just("lay"), st.integers(0, 80), st.integers(0, 30), st.sampled_from([20, 50, 100])
)
_returns = st.tuples(
    st.just("back"), st.integers(-5, 120), st.just(0), st.sampled_from([0, 20, 50, 100])
)


def _as_dict(runs: list[Run]) -> dict[int, Day]:
    return {day: info for first, last, info in runs for day in range(first, last + 1)}


def _is_sorted_and_disjoint(runs: list[Run]) -> bool:
    return all(first <= last for first, last, _ in runs) and all(
        before[1] < after[0] for before, after in pairwise(runs)
    )


def _laid(steps: list[tuple[str, int, int, int]]) -> tuple[list[Run], dict[int, Day]]:
    runs: list[Run] = []
    days: dict[int, Day] = {}
    for index, (step, offset, length, value) in enumerate(steps):
        first, source = BASE + offset, f"e-{index}"
        if step == "lay":
            info = Day(value, "sick_note", source)
            overwrite(runs, first, first + length, info)
            days.update(dict.fromkeys(range(first, first + length + 1), info))
            continue
        left = 100 - value
        lower_from(runs, first, left, source)
        for day in [d for d in days if d >= first]:
            if min(days[day].grade, left) <= 0:
                del days[day]
            elif left < days[day].grade:
                days[day] = Day(left, days[day].kind, source)
    return runs, days


@EXAMPLES
@given(steps=st.lists(_lays | _returns, max_size=8))
def test_laying_and_lowering_agree_with_a_dict_of_days(
    steps: list[tuple[str, int, int, int]],
) -> None:
    runs, days = _laid(steps)
    assert _is_sorted_and_disjoint(runs)
    assert _as_dict(runs) == days
    assert [day for first, last in spans(runs) for day in range(first, last + 1)] == sorted(days)


@EXAMPLES
@given(
    steps=st.lists(_lays, min_size=1, max_size=6), gap=st.integers(1, 30), end=st.integers(0, 120)
)
def test_the_last_case_and_the_cut_agree_with_a_dict_of_days(
    steps: list[tuple[str, int, int, int]], gap: int, end: int
) -> None:
    runs, days = _laid(steps)
    ordered = sorted(days)
    first = 0
    for index in range(1, len(ordered)):
        if ordered[index] - ordered[index - 1] > gap:
            first = index
    assert sorted(_as_dict(last_case(runs, gap))) == ordered[first:]
    kept = cut(runs, BASE + end)
    assert _is_sorted_and_disjoint(kept)
    assert _as_dict(kept) == {day: info for day, info in days.items() if day <= BASE + end}


@EXAMPLES
@given(first=st.integers(-20, 40), length=st.integers(-2, 60))
def test_weekday_counting_agrees_with_the_calendar(first: int, length: int) -> None:
    start, last = BASE + first, BASE + first + length
    expected = [d for d in range(start, last + 1) if date.fromordinal(d).weekday() < 5]
    assert weekdays(start, last) == len(expected)
    assert sorted(d for stride in weekday_ordinals(start, last) for d in stride) == expected
    assert [d for block in weekday_blocks(start, last) for d in block] == expected
