"""Self-certification (egenmelding): the employee's right, the quota per 12 months across
cases (standard and IA variant), refused or flagged per tenant policy."""

from __future__ import annotations

from datetime import date

import pytest

from case_service.domain.employee import EmployeeRecord
from case_service.domain.errors import DomainError
from case_service.domain.tenant_policy import CasePolicy
from naervaer.contracts.case import SelfCertificationRegistered
from naervaer.contracts.employee import (
    SelfCertificationRestored,
    SelfCertificationUsed,
    SelfCertificationWithdrawn,
)
from naervaer.contracts.tenant import CasePolicyChanged

from .given import CASE, EMPLOYEE, TODAY, S, day, given, note, refused

STANDARD = CasePolicy("acme")
STANDARD_FLAG = CasePolicy("acme", 1, "standard", "flag")
IA = CasePolicy("acme", 1, "ia", "refuse")
IA_FLAG = CasePolicy("acme", 1, "ia", "flag")


def used(start: date, end: date, case_id: str = "other-case") -> SelfCertificationUsed:
    return SelfCertificationUsed(
        employee_id=EMPLOYEE,
        case_id=case_id,
        period_start=start,
        period_end=end,
        days=(end - start).days + 1,
    )


def employee(*events: object) -> EmployeeRecord:
    return EmployeeRecord.replay(EMPLOYEE, list(events), len(events))  # type: ignore[arg-type]


def self_certify(case, record, policy, start, end) -> None:  # type: ignore[no-untyped-def]
    case.register_self_certification(
        period_start=start, period_end=end, employee=record, policy=policy
    )


def test_registered_on_the_case_and_on_the_employee_ledger() -> None:
    case, record = given(), employee()
    self_certify(case, record, STANDARD, S, day(2))
    assert case.pending == [
        SelfCertificationRegistered(case_id=CASE, period_start=S, period_end=day(2), days=3)
    ]
    assert record.pending == [used(S, day(2), case_id=CASE)]


# Earlier uses, each in another case, in the 12 months before 2026-01-05 (S).
FOUR_USES = [used(date(2025, m, 3), date(2025, m, 3)) for m in (3, 5, 7, 9)]
IA_21_DAYS = [used(date(2025, m, 1), date(2025, m, 7)) for m in (4, 6, 8)]


@pytest.mark.parametrize(
    ("policy", "history", "start", "end", "rule"),
    [
        (STANDARD, [], S, day(3), "self_certification_too_long"),  # 4 days > 3
        (STANDARD, FOUR_USES, S, S, "self_certification_quota_exceeded"),  # the 5th time
        (IA, [], S, day(8), "self_certification_too_long"),  # 9 days > 8
        (IA, IA_21_DAYS, S, day(3), "self_certification_quota_exceeded"),  # 25 days > 24
    ],
)
def test_a_breach_is_refused_under_the_refuse_policy(
    policy: CasePolicy, history: list[SelfCertificationUsed], start: date, end: date, rule: str
) -> None:
    case, record = given(), employee(*history)
    with refused(case, rule):
        self_certify(case, record, policy, start, end)
    assert record.pending == []


@pytest.mark.parametrize(
    ("policy", "history", "start", "end", "rule"),
    [
        (STANDARD_FLAG, [], S, day(3), "self_certification_too_long"),
        (STANDARD_FLAG, FOUR_USES, S, S, "self_certification_quota_exceeded"),
        (IA_FLAG, IA_21_DAYS, S, day(3), "self_certification_quota_exceeded"),
    ],
)
def test_a_breach_is_accepted_and_flagged_under_the_flag_policy(
    policy: CasePolicy, history: list[SelfCertificationUsed], start: date, end: date, rule: str
) -> None:
    case, record = given(), employee(*history)
    self_certify(case, record, policy, start, end)
    [event] = case.pending
    assert isinstance(event, SelfCertificationRegistered)
    assert event.flagged
    assert event.flag_reason is not None
    assert event.flag_reason.startswith(rule)
    assert record.pending[0].flagged  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("policy", "history", "start", "end"),
    [
        (STANDARD, [], S, day(2)),  # 3 days
        (STANDARD, FOUR_USES[1:], S, S),  # the 4th time
        (STANDARD, [used(date(2025, 1, 5), date(2025, 1, 5)), *FOUR_USES[1:]], S, S),  # a year ago
        (IA, [], S, day(7)),  # 8 days
        (IA, IA_21_DAYS, S, day(2)),  # 24 days in all
        (IA, [*IA_21_DAYS, used(date(2024, 12, 1), date(2024, 12, 8))], S, day(2)),  # too old
    ],
)
def test_within_the_quota_is_accepted_unflagged(
    policy: CasePolicy, history: list[SelfCertificationUsed], start: date, end: date
) -> None:
    case, record = given(), employee(*history)
    self_certify(case, record, policy, start, end)
    assert not case.pending[0].flagged  # type: ignore[attr-defined]


@pytest.mark.parametrize("policy", [STANDARD, STANDARD_FLAG, IA_FLAG])
def test_a_withdrawn_right_refuses_whatever_the_policy(policy: CasePolicy) -> None:
    withdrawn = SelfCertificationWithdrawn(employee_id=EMPLOYEE, withdrawn_on=day(-30), reason="x")
    case, record = given(), employee(withdrawn)
    with refused(case, "self_certification_withdrawn"):
        self_certify(case, record, policy, S, S)


def test_a_restored_right_self_certifies_again() -> None:
    case = given()
    record = employee(
        SelfCertificationWithdrawn(employee_id=EMPLOYEE, withdrawn_on=day(-30), reason="x"),
        SelfCertificationRestored(employee_id=EMPLOYEE, restored_on=day(-2)),
    )
    self_certify(case, record, STANDARD, S, S)
    assert len(case.pending) == 1


@pytest.mark.parametrize(
    ("start", "end", "rule"),
    [
        (day(5), day(6), "self_certification_overlap"),  # inside the sick note
        (day(2), S, "period_end_before_start"),
    ],
)
def test_a_self_certification_must_fit_the_case(start: date, end: date, rule: str) -> None:
    case, record = given(note("n-1", day(3), day(13))), employee()
    with refused(case, rule):
        self_certify(case, record, STANDARD, start, end)
    assert record.pending == []


def test_withdraw_and_restore_the_right() -> None:
    record = employee()
    record.withdraw_self_certification(reason="misuse on Mondays", today=TODAY)
    record.restore_self_certification(today=TODAY)
    assert record.pending == [
        SelfCertificationWithdrawn(
            employee_id=EMPLOYEE, withdrawn_on=TODAY, reason="misuse on Mondays"
        ),
        SelfCertificationRestored(employee_id=EMPLOYEE, restored_on=TODAY),
    ]


def test_withdrawing_twice_or_restoring_a_standing_right_is_refused() -> None:
    record = employee()
    with pytest.raises(DomainError) as not_withdrawn:
        record.restore_self_certification(today=TODAY)
    record.withdraw_self_certification(reason="misuse", today=TODAY)
    with pytest.raises(DomainError) as twice:
        record.withdraw_self_certification(reason="again", today=TODAY)
    assert not_withdrawn.value.rule == "self_certification_not_withdrawn"
    assert twice.value.rule == "self_certification_already_withdrawn"
    assert len(record.pending) == 1


def test_the_policy_defaults_to_the_standard_quota_refusing_breaches() -> None:
    policy = CasePolicy.replay("acme", [], 0)
    assert (policy.self_certification_quota, policy.quota_breach) == ("standard", "refuse")
    assert (policy.quota.max_days_each, policy.quota.max_times) == (3, 4)


def test_changing_the_policy_records_only_a_change() -> None:
    policy = CasePolicy.replay("acme", [], 0)
    policy.change(quota="standard", quota_breach="refuse", today=TODAY)
    assert policy.pending == []
    policy.change(quota="ia", quota_breach="flag", today=TODAY)
    assert policy.pending == [
        CasePolicyChanged(
            tenant="acme", self_certification_quota="ia", quota_breach="flag", changed_on=TODAY
        )
    ]
    assert (policy.quota.max_days_each, policy.quota.max_days_total) == (8, 24)
