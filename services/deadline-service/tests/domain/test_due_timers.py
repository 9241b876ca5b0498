"""``due_timers`` gives the deadline timers the way the projection built them from the
reminder stages of each obligation before issue 8 (``reference.slow_reminder_stages``): the
same keys (plain strings: the digest hashes their ``repr``), fire dates and order."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.timeline import Obligation, due_timers

from .reference import slow_reminder_stages

_obligations = st.builds(
    Obligation,
    kind=st.sampled_from(list(ObligationKind)),
    due_date=st.none() | st.dates(date(2020, 1, 1), date(2030, 1, 1)),
    state=st.sampled_from(list(State)),
    responsible=st.sampled_from(list(Responsible)),
    legal_basis=st.just("ftrl § 8-7a"),
    fulfilled_by=st.none() | st.just("ev-1"),
    milestone=st.booleans(),
    rule_version=st.just("2025"),
)


@settings(max_examples=300, deadline=None)
@given(
    obligations=st.lists(_obligations, max_size=13, unique_by=lambda o: o.kind),
    lead=st.integers(0, 30),
)
def test_due_timers_are_the_reminder_stages_of_each_obligation(
    obligations: list[Obligation], lead: int
) -> None:
    expected = {
        (o.kind.value, stage.value, o.due_date): fire_on
        for o in obligations
        if o.due_date is not None
        for stage, fire_on in slow_reminder_stages(o, lead)
    }
    found = due_timers(obligations, lead)
    assert list(found.items()) == list(expected.items())
    assert all(type(part) is str for key in found for part in key[:2])
