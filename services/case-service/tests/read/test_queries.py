"""Who may read the statistics, and the date-dependent parts of a summary."""

from __future__ import annotations

import pytest

from case_service.app.queries import statistics_decision, visibility
from case_service.app.summary_days import summary_facts
from case_service.app.summary_view import meetings_held, meetings_upcoming, summary_today
from naervaer.auth.principal import Principal, Role

from .builders import (
    adjustment,
    d,
    evaluated,
    fold_all,
    meeting_held,
    meeting_scheduled,
    note,
    opened,
)


def principal(*roles: Role, sub: str = "u-1", tenant: str = "acme") -> Principal:
    return Principal(subject=sub, tenant=tenant, roles=frozenset(roles))


@pytest.mark.parametrize(
    ("roles", "allowed", "basis"),
    [
        ((Role.HR,), True, Role.HR),
        ((Role.AUDITOR,), True, Role.AUDITOR),
        ((Role.HR, Role.EMPLOYEE), True, Role.HR),
        ((Role.MANAGER,), False, None),
        ((Role.EMPLOYEE,), False, None),
        ((Role.NAV,), False, None),
        ((Role.BHT,), False, None),
        ((Role.SYSTEM,), False, None),
        ((), False, None),
    ],
)
def test_only_hr_and_auditors_read_statistics(
    roles: tuple[Role, ...], allowed: bool, basis: Role | None
) -> None:
    decision = statistics_decision(principal(*roles))
    assert (decision.allowed, decision.basis_role) == (allowed, basis)


def test_visibility_is_bound_to_the_callers_tenant_and_identity() -> None:
    both = visibility(principal(Role.EMPLOYEE, Role.MANAGER, sub="p-7", tenant="t9"))
    assert (both.tenant, both.all_cases, both.employee_id, both.manager_id) == (
        "t9",
        False,
        "p-7",
        "p-7",
    )
    assert visibility(principal(Role.NAV)).all_cases
    assert visibility(principal()).nothing


def test_the_date_dependent_parts_of_a_summary() -> None:
    state = fold_all(
        [
            opened("2026-01-05"),
            note("n1", "2026-01-05", "2026-01-31"),
            adjustment("a1", "2026-01-12", "2026-01-25"),  # ended before today, not evaluated
            adjustment("a2", "2026-01-19", "2026-02-15"),  # open
            adjustment("a3", "2026-01-19", "2026-02-15"),
            evaluated("a3", "2026-01-28"),  # evaluated: not open
            adjustment("a4", "2026-02-02", "2026-02-28"),  # upcoming: open
            meeting_scheduled("m2", 2, "2026-06-01T09:00:00+02:00"),
            meeting_held("m1", 1, "2026-02-10"),
        ]
    )
    segments = summary_facts(state).segments
    today = summary_today(state, segments, d("2026-01-28"))
    assert today.days_absent_to_date == 24  # 5th to 28th; the note runs to the 31st
    assert [a.adjustment_id for a in today.open_adjustments] == ["a2", "a4"]
    assert today.adjustments_awaiting_evaluation == 1
    assert [m.meeting_id for m in meetings_held(state)] == ["m1"]
    assert [m.meeting_id for m in meetings_upcoming(state)] == ["m2"]
    assert summary_today(state, segments, d("2026-01-01")).days_absent_to_date == 0
