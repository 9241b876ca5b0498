"""Measures: adjustments (concrete, temporary, evaluated once), the activity requirement,
expert assistance (NOK 20 000 per case, approval by all three), participation, AAP, review."""

from __future__ import annotations

from datetime import date

import pytest

from naervaer.contracts.measures import (
    ActivityRequirementAssessed,
    AdjustmentEvaluated,
    AdjustmentRecorded,
    ExpertAssistanceDecided,
    ExpertAssistanceRequested,
)

from .given import CASE, TODAY, day, given, refused

CONCRETE = "Works 09-13 with desk tasks only."
STARTS = day(14)


def adjustment(adjustment_id: str = "a-1", starts_on: date = STARTS) -> AdjustmentRecorded:
    return AdjustmentRecorded(
        case_id=CASE,
        adjustment_id=adjustment_id,
        area="working_time",
        description=CONCRETE,
        starts_on=starts_on,
        ends_on=starts_on.replace(day=28),
    )


def request(request_id: str, amount: int) -> ExpertAssistanceRequested:
    return ExpertAssistanceRequested(
        case_id=CASE,
        request_id=request_id,
        amount_nok=amount,
        purpose="Ergonomic assessment.",
        internal_measures_tried="Shorter shifts.",
        requested_on=day(60),
    )


def decided(request_id: str, approved: bool) -> ExpertAssistanceDecided:
    return ExpertAssistanceDecided(
        case_id=CASE,
        request_id=request_id,
        approved=approved,
        employer_agrees=True,
        employee_agrees=True,
        nav_agrees=approved,
        decided_on=day(70),
    )


def test_an_adjustment_is_recorded() -> None:
    case = given()
    case.record_adjustment(
        adjustment_id="a-1",
        area="working_time",
        description=CONCRETE,
        starts_on=day(14),
        ends_on=day(14).replace(day=28),
    )
    assert case.pending == [adjustment()]


@pytest.mark.parametrize(
    ("adjustment_id", "description", "ends_on", "rule"),
    [
        ("a-1", CONCRETE, day(40), "adjustment_exists"),
        ("a-2", "Less work", day(40), "adjustment_not_concrete"),
        ("a-2", CONCRETE, day(13), "adjustment_not_temporary"),
    ],
)
def test_an_adjustment_that_breaks_a_rule_is_refused(
    adjustment_id: str, description: str, ends_on: date, rule: str
) -> None:
    case = given(adjustment())
    with refused(case, rule):
        case.record_adjustment(
            adjustment_id=adjustment_id,
            area="tasks",
            description=description,
            starts_on=day(14),
            ends_on=ends_on,
        )


def test_an_adjustment_is_evaluated_once_after_it_started() -> None:
    case = given(adjustment())
    case.evaluate_adjustment(adjustment_id="a-1", outcome="worked", notes="Helped.", today=TODAY)
    assert case.pending == [
        AdjustmentEvaluated(
            case_id=CASE, adjustment_id="a-1", evaluated_on=TODAY, outcome="worked", notes="Helped."
        )
    ]
    again = given(adjustment(), *case.pending)
    with refused(again, "adjustment_already_evaluated"):
        again.evaluate_adjustment(adjustment_id="a-1", outcome="worked", notes="x", today=TODAY)
    with refused(again, "adjustment_not_found", 404):
        again.evaluate_adjustment(adjustment_id="a-9", outcome="worked", notes="x", today=TODAY)
    early = given(adjustment(starts_on=date(2026, 4, 1)))
    with refused(early, "adjustment_not_started"):
        early.evaluate_adjustment(adjustment_id="a-1", outcome="worked", notes="x", today=TODAY)


@pytest.mark.parametrize(
    ("outcome", "reason", "accepted"),
    [
        ("met", None, True),
        ("not_met", None, True),
        ("exempt", "medical_reasons", True),
        ("exempt", "adjustment_not_possible", True),
        ("exempt", None, False),
        ("met", "medical_reasons", False),
    ],
)
def test_an_exemption_and_only_an_exemption_carries_its_reason(
    outcome: str, reason: str | None, accepted: bool
) -> None:
    case = given()
    assess = lambda: case.assess_activity_requirement(  # noqa: E731
        outcome=outcome,  # type: ignore[arg-type]
        exemption_reason=reason,  # type: ignore[arg-type]
        today=TODAY,
    )
    if not accepted:
        with refused(case, "exemption_reason_mismatch"):
            assess()
        return
    assess()
    assert case.pending == [
        ActivityRequirementAssessed(
            case_id=CASE,
            assessed_on=TODAY,
            outcome=outcome,  # type: ignore[arg-type]
            exemption_reason=reason,  # type: ignore[arg-type]
        )
    ]


@pytest.mark.parametrize(
    ("history", "amount", "accepted"),
    [
        ([], 20_000, True),
        ([request("r-0", 15_000)], 5_000, True),
        ([request("r-0", 15_000)], 5_001, False),  # NOK 20 000 per case, open requests count
        ([request("r-0", 15_000), decided("r-0", True)], 6_000, False),
        ([request("r-0", 15_000), decided("r-0", False)], 20_000, True),  # declined: freed
    ],
)
def test_expert_assistance_is_at_most_20000_per_case(
    history: list[object], amount: int, accepted: bool
) -> None:
    case = given(*history)  # type: ignore[arg-type]

    def ask() -> None:
        case.request_expert_assistance(
            request_id="r-1",
            amount_nok=amount,
            purpose="Ergonomic assessment.",
            internal_measures_tried="Shorter shifts.",
            today=TODAY,
        )

    if accepted:
        ask()
        assert len(case.pending) == 1
    else:
        with refused(case, "expert_assistance_limit"):
            ask()


def test_a_request_id_is_used_once() -> None:
    case = given(request("r-1", 1000))
    with refused(case, "expert_assistance_exists"):
        case.request_expert_assistance(
            request_id="r-1", amount_nok=1000, purpose="x", internal_measures_tried="y", today=TODAY
        )


@pytest.mark.parametrize(
    ("employer", "employee", "nav", "approved", "accepted"),
    [
        (True, True, True, True, True),
        (True, False, True, True, False),
        (False, True, True, True, False),
        (True, True, False, True, False),
        (True, False, False, False, True),  # a refusal needs no agreement
    ],
)
def test_approval_needs_employer_employee_and_nav_to_agree(
    employer: bool, employee: bool, nav: bool, approved: bool, accepted: bool
) -> None:
    case = given(request("r-1", 10_000))

    def decide() -> None:
        case.decide_expert_assistance(
            request_id="r-1",
            approved=approved,
            employer_agrees=employer,
            employee_agrees=employee,
            nav_agrees=nav,
            today=TODAY,
        )

    if accepted:
        decide()
        assert len(case.pending) == 1
    else:
        with refused(case, "expert_assistance_needs_agreement"):
            decide()


def test_a_decision_needs_an_undecided_request() -> None:
    case = given(request("r-1", 10_000), decided("r-1", True))
    for request_id, rule, status in (
        ("r-1", "expert_assistance_already_decided", 422),
        ("r-9", "expert_assistance_not_found", 404),
    ):
        with refused(case, rule, status):
            case.decide_expert_assistance(
                request_id=request_id,
                approved=False,
                employer_agrees=True,
                employee_agrees=True,
                nav_agrees=True,
                today=TODAY,
            )


def test_participation_aap_and_review_are_recorded() -> None:
    case = given()
    case.record_participation_issue(kind="did_not_attend", description="Missed it.", today=TODAY)
    case.record_aap_application(applied_on=TODAY, today=TODAY)
    case.decide_employment_review(decision="leave", today=TODAY)
    assert [type(e).__name__ for e in case.pending] == [
        "ParticipationIssueRecorded",
        "AapApplicationRecorded",
        "EmploymentReviewDecided",
    ]
    fresh = given()
    with refused(fresh, "date_in_future"):
        fresh.record_aap_application(applied_on=date(2026, 3, 3), today=TODAY)
