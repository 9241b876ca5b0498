"""Retention and erasure rules with concrete dates: when an employee's data may be erased,
legal holds on the employee record, and the tenant's retention policy."""

from __future__ import annotations

from datetime import date

import pytest

from case_service.domain.employee import EmployeeRecord
from case_service.domain.errors import DomainError
from case_service.domain.retention import (
    CaseClosure,
    Erasure,
    RetentionPolicy,
    decide_erasure,
    erasable_from,
    retention_status,
)
from naervaer.contracts.employee import LegalHoldLifted, LegalHoldPlaced, PersonalDataErased
from naervaer.contracts.tenant import RetentionPolicySet

d = date.fromisoformat
TODAY = d("2029-03-01")


@pytest.mark.parametrize(
    ("closed", "months", "due"),
    [
        ("2026-02-20", 36, "2029-02-20"),
        ("2026-01-31", 1, "2026-02-28"),  # the month is shorter: its last day
        ("2027-01-31", 13, "2028-02-29"),  # a leap year's February
        ("2028-02-29", 12, "2029-02-28"),
        ("2026-05-15", 0, "2026-05-15"),  # 0: as soon as every case is closed
    ],
)
def test_erasable_from_adds_calendar_months(closed: str, months: int, due: str) -> None:
    assert erasable_from(d(closed), months) == d(due)


def test_the_last_close_counts_and_an_open_case_has_no_due_date() -> None:
    cases = [CaseClosure("c2", d("2025-06-30")), CaseClosure("c1", d("2026-02-20"))]
    status = retention_status(cases, 36)
    assert (status.last_closed_on, status.erasable_from) == (d("2026-02-20"), d("2029-02-20"))
    assert [c.case_id for c in status.closed_cases] == ["c2", "c1"]  # by close date
    reopened = retention_status([*cases, CaseClosure("c3", None)], 36)
    assert (reopened.open_cases, reopened.erasable_from) == (("c3",), None)


@pytest.mark.parametrize(
    ("cases", "hold", "today", "rule"),
    [
        ([CaseClosure("c1", d("2026-02-20")), CaseClosure("c2", None)], False, TODAY, "case_open"),
        ([CaseClosure("c1", d("2026-02-20"))], True, TODAY, "legal_hold"),
        ([CaseClosure("c1", d("2026-02-20"))], False, d("2029-02-19"), "retention_not_elapsed"),
        ([], False, TODAY, "nothing_held"),
    ],
)  # fmt: skip
def test_erasure_is_refused_naming_the_rule(
    cases: list[CaseClosure], hold: bool, today: date, rule: str
) -> None:
    with pytest.raises(DomainError) as refused:
        decide_erasure(cases, months=36, legal_hold=hold, today=today)
    assert refused.value.rule == rule
    assert refused.value.status == (404 if rule == "nothing_held" else 409)


def test_a_refusal_for_time_says_from_which_date() -> None:
    with pytest.raises(DomainError) as refused:
        decide_erasure(
            [CaseClosure("c1", d("2026-02-20"))],
            months=36,
            legal_hold=False,
            today=TODAY.replace(year=2028),
        )
    assert refused.value.extensions == {"erasable_from": "2029-02-20"}
    assert "2029-02-20" in refused.value.detail


def test_erasure_covers_every_case_from_the_due_day_on() -> None:
    cases = [CaseClosure("c2", d("2026-02-20")), CaseClosure("c1", d("2025-01-10"))]
    erasure = decide_erasure(cases, months=36, legal_hold=False, today=d("2029-02-20"))
    assert erasure == Erasure(("c1", "c2"), d("2026-02-20"), 36)


def test_legal_hold_is_placed_once_and_lifted_once() -> None:
    record = EmployeeRecord("emp-1")
    record.place_legal_hold(reason="Dispute", today=TODAY)
    with pytest.raises(DomainError) as twice:
        record.place_legal_hold(reason="Again", today=TODAY)
    record.lift_legal_hold(today=TODAY)
    with pytest.raises(DomainError) as none:
        record.lift_legal_hold(today=TODAY)
    assert (twice.value.rule, twice.value.status) == ("legal_hold_already_placed", 409)
    assert (none.value.rule, none.value.status) == ("no_legal_hold", 409)
    assert [type(e) for e in record.pending] == [LegalHoldPlaced, LegalHoldLifted]
    assert not record.legal_hold


def test_an_erasure_is_recorded_once_per_key_and_never_under_a_hold() -> None:
    erasure = Erasure(("c1",), d("2026-02-20"), 0)
    record = EmployeeRecord("emp-1")
    record.record_erasure("k" * 32, erasure, today=TODAY)
    record.record_erasure("k" * 32, erasure, today=TODAY)
    [erased] = record.pending
    assert isinstance(erased, PersonalDataErased)
    assert (erased.case_ids, erased.erased_on, erased.last_closed_on) == (
        ["c1"],
        TODAY,
        d("2026-02-20"),
    )
    assert record.erased_cases == {"c1"}
    held = EmployeeRecord.replay("emp-2", [_hold()], 1)
    with pytest.raises(DomainError, match="legal hold"):
        held.record_erasure("h" * 32, erasure, today=TODAY)


def test_the_retention_policy_defaults_to_36_months_and_records_only_changes() -> None:
    policy = RetentionPolicy("acme")
    assert (policy.months_after_close, policy.changed_on) == (36, None)
    policy.set(months_after_close=36, today=TODAY)  # setting the default makes it explicit
    policy.set(months_after_close=36, today=TODAY)
    policy.set(months_after_close=12, today=TODAY)
    assert [e.months_after_close for e in policy.pending if isinstance(e, RetentionPolicySet)] == [
        36,
        12,
    ]
    replayed = RetentionPolicy.replay("acme", list(policy.pending), 2)
    assert (replayed.months_after_close, replayed.changed_on) == (12, TODAY)


def _hold() -> LegalHoldPlaced:
    return LegalHoldPlaced(employee_id="emp-2", reason="Dispute", placed_on=TODAY)
