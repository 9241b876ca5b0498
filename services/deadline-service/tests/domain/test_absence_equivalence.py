"""The absence laid with interval arithmetic agrees with the day-by-day walk it replaced
(``reference``), on generated cases: the days, the end, the employer period
(arbeidsgiverperioden), the sick-pay weekdays and the maximum date (maksdato)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadline_service.domain.absence import Absence, Day, lay_days
from deadline_service.domain.calendar import is_weekday, nth_weekday_after
from deadline_service.domain.facts import CaseFacts, Layer, LayerKind, Return
from deadline_service.domain.maxdate import SickPayHistory, known_sick_pay_ordinals, max_date

from .reference import (
    SlowAbsence,
    slow_known_sick_pay_days,
    slow_lay_days,
    slow_max_date,
)

BASE = date(2024, 1, 1)
KINDS: list[LayerKind] = ["sick_note", "pending", "self_certification", "reported"]
EXAMPLES = settings(max_examples=300, deadline=None)


def _day(offset: int) -> date:
    return BASE + timedelta(days=offset)


@st.composite
def layers(draw: st.DrawFn, index: int, seqs: list[int]) -> Layer:
    """A note laid over up to 90 days, with grading changes and extensions (forlengelser)."""
    start = _day(draw(st.integers(0, 150)))
    length = draw(st.integers(0, 90))
    grade = st.sampled_from([20, 50, 60, 100])
    changes = draw(st.lists(st.tuples(st.integers(-5, length + 5), grade), max_size=2))
    grades = [(start, draw(grade))] + [(start + timedelta(days=k), g) for k, g in changes]
    grades = sorted(grades) if draw(st.booleans()) else grades  # fold keeps them sorted
    firsts = draw(st.lists(st.integers(1, length), max_size=2, unique=True)) if length else []
    extended = [(start + timedelta(days=k), seqs.pop()) for k in sorted(firsts)]
    kind = draw(st.sampled_from(KINDS))
    end = start + timedelta(days=length)
    return Layer(start, end, grades, kind, f"note-{index}", seqs.pop(), extended)


@st.composite
def case_facts(draw: st.DrawFn) -> CaseFacts:
    """Up to four layers and three returns to work, changed in any order; maybe closed."""
    seqs = draw(st.permutations(range(1, 30)))
    facts = CaseFacts("case-1")
    for index in range(draw(st.integers(0, 4))):
        facts.layers[f"layer-{index}"] = draw(layers(index, seqs))
    for index in range(draw(st.integers(0, 3))):
        percent = draw(st.sampled_from([0, 20, 50, 80, 100, 100]))
        facts.returns.append(
            Return(_day(draw(st.integers(0, 260))), percent, seqs.pop(), f"back-{index}")
        )
    if draw(st.booleans()):
        facts.closed_on = _day(draw(st.integers(0, 260)))
    return facts


@st.composite
def histories(draw: st.DrawFn) -> SickPayHistory | None:
    """Earlier cases' sick-pay weekdays, a run of them up to four years back."""
    if draw(st.booleans()):
        return None
    first = _day(-draw(st.integers(30, 1_400)))
    count = draw(st.integers(0, 300))
    days = frozenset(islice((d for d in _dates_from(first) if is_weekday(d)), count))
    last = draw(st.sampled_from([None, max(days, default=None), _day(-draw(st.integers(0, 400)))]))
    return SickPayHistory(days, last)


def _dates_from(first: date) -> Iterator[date]:
    day = first
    while True:
        yield day
        day += timedelta(days=1)


@EXAMPLES
@given(facts=case_facts(), history=histories())
def test_laid_absence_and_max_date_agree_with_the_day_by_day_walk(
    facts: CaseFacts, history: SickPayHistory | None
) -> None:
    new, old = lay_days(facts), slow_lay_days(facts)
    if old is None:
        assert new is None
        return
    assert new is not None
    assert list(new.days.items()) == list(old.days.items())
    assert (new.end, new.start, new.last_known_day) == (old.end, old.start, old.last_known_day)
    assert set(new.laid()) == set(old.days.values())
    assert all(new.day(_day(k)) == old.days.get(_day(k)) for k in range(-5, 270))
    end = old.employer_period_end()
    assert new.employer_period_end() == end
    assert _known_sick_pay_days(new) == sorted(slow_known_sick_pay_days(old))
    if end is not None:
        assert max_date(new, end, history) == slow_max_date(old, end, history)


@EXAMPLES
@given(
    offsets=st.sets(st.integers(0, 120), min_size=1, max_size=60),
    end=st.none() | st.integers(-10, 130),
    first=st.integers(-10, 140),
    after=st.integers(-10, 140),
)
def test_counting_agrees_on_any_days_and_end(
    offsets: set[int], end: int | None, first: int, after: int
) -> None:
    """Absences built directly too: days beyond the end, counting from before or after."""
    days = {_day(k): Day(100 - k % 3 * 30, "sick_note", f"e-{k % 4}") for k in offsets}
    ends = None if end is None else _day(end)
    new, old = Absence.of_days(days, ends), SlowAbsence(days, ends)
    assert new.employer_period_end() == old.employer_period_end()
    assert _take(new.days_from(_day(first)), 400) == _take(old.days_from(_day(first)), 400)
    weekdays = _take(old.sick_pay_weekdays(_day(after)), 300)
    assert _take(new.sick_pay_weekdays(_day(after)), 300) == weekdays
    for number in (1, 2, 5, 16, 61, 248, 300):
        expected = weekdays[number - 1] if number <= len(weekdays) else None
        assert new.sick_pay_weekday(_day(after), number) == expected
    assert all(new.sick_on(_day(k)) == old.sick_on(_day(k)) for k in range(-5, 140))
    assert all(new.day(_day(k)) == days.get(_day(k)) for k in range(-5, 140))
    assert list(new.days.items()) == list(old.days.items())
    assert _known_sick_pay_days(new) == sorted(slow_known_sick_pay_days(old))


@pytest.mark.parametrize("gap", [0, 1, 14, 15, 16, 17, 18])
@pytest.mark.parametrize("returned", [None, 0, 100])
def test_a_new_case_starts_after_16_days_off(gap: int, returned: int | None) -> None:
    """Notes ``gap`` (then 3) non-sick days apart: the same case below 16, a new one from 16."""
    facts = CaseFacts("case-1")
    second = _day(20 + gap)
    facts.layers["a"] = Layer(BASE, _day(19), [(BASE, 100)], "sick_note", "a", 1)
    facts.layers["b"] = Layer(
        second, second + timedelta(days=40), [(second, 50)], "pending", "b", 2
    )
    third = second + timedelta(days=44)  # three days off after the second note
    facts.layers["c"] = Layer(third, third + timedelta(days=9), [(third, 100)], "sick_note", "c", 4)
    if returned is not None:
        facts.returns.append(Return(second + timedelta(days=5), returned, 3, "back"))
    new, old = lay_days(facts), slow_lay_days(facts)
    assert new is not None
    assert old is not None
    assert list(new.days.items()) == list(old.days.items())
    if returned != 100:  # a full return cuts the second note short: the third starts anew
        assert new.start == (BASE if gap < 16 else second)
    assert new.employer_period_end() == old.employer_period_end()


@given(offset=st.integers(-3_000, 3_000), number=st.integers(1, 700))
def test_nth_weekday_after_is_the_nth_weekday_counted_one_by_one(offset: int, number: int) -> None:
    day = _day(offset)
    counted = list(
        islice((d for d in _dates_from(day + timedelta(days=1)) if is_weekday(d)), number)
    )
    assert nth_weekday_after(day, number) == counted[-1]


def test_a_laid_absence_is_read_only_and_follows_changed_facts() -> None:
    """A laid absence's days cannot be changed behind its other readers' backs, and facts
    changed after it are laid again."""
    facts = CaseFacts("case-1")
    facts.layers["note"] = Layer(BASE, _day(30), [(BASE, 100)], "sick_note", "note", 1)
    first = lay_days(facts)
    assert first is not None
    with pytest.raises(TypeError):
        first.days[BASE] = Day(50, "sick_note", "x")  # type: ignore[index]
    facts.returns.append(Return(_day(10), 100, 2, "back"))
    again = lay_days(facts)
    assert again is not None
    assert again.end == _day(9)
    assert first.end is None


def _take(days: Iterator[date], count: int) -> list[date]:
    return list(islice(days, count))


def _known_sick_pay_days(absence: Absence) -> list[date]:
    """The known sick-pay days, as dates in the order given."""
    return [date.fromordinal(ordinal) for ordinal in known_sick_pay_ordinals(absence)]
