"""Measures and decisions: adjustments, activity requirement, expert assistance, AAP, review."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from naervaer.contracts._base import CASE_ID, Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry

EXPERT_ASSISTANCE_MAX_NOK = 20_000


class AdjustmentRecorded(Contract):
    """An adjustment (tilrettelegging): concrete, temporary, with an end date."""

    case_id: str = CASE_ID
    adjustment_id: str
    area: Literal["tasks", "working_time", "workplace"]
    description: PersonalStr = Field(min_length=1)
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _temporary(self) -> AdjustmentRecorded:
        if self.ends_on < self.starts_on:
            raise ValueError("an adjustment ends on or after the day it starts")
        return self


class AdjustmentEvaluated(Contract):
    """An adjustment was evaluated: did it help the employee stay in or return to work?"""

    case_id: str = CASE_ID
    adjustment_id: str
    evaluated_on: date
    outcome: Literal["worked", "partly_worked", "did_not_work"]
    notes: PersonalStr = Field(min_length=1)


class ActivityRequirementAssessed(Contract):
    """The activity requirement (aktivitetsplikt, ftrl § 8-8) was assessed."""

    case_id: str = CASE_ID
    assessed_on: date
    outcome: Literal["met", "exempt", "not_met"]
    exemption_reason: Literal["medical_reasons", "adjustment_not_possible"] | None = None

    @model_validator(mode="after")
    def _reason_when_exempt(self) -> ActivityRequirementAssessed:
        if (self.outcome == "exempt") != (self.exemption_reason is not None):
            raise ValueError("an exemption, and only an exemption, carries its reason")
        return self


class ExpertAssistanceRequested(Contract):
    """The employer asked NAV to fund expert assistance (ekspertbistand)."""

    case_id: str = CASE_ID
    request_id: str
    amount_nok: int = Field(ge=1, le=EXPERT_ASSISTANCE_MAX_NOK)
    purpose: PersonalStr = Field(min_length=1)
    internal_measures_tried: PersonalStr = Field(min_length=1)
    requested_on: date


class ExpertAssistanceDecided(Contract):
    """NAV decided on expert assistance; approval needs employer, employee and NAV to agree."""

    case_id: str = CASE_ID
    request_id: str
    approved: bool
    employer_agrees: bool
    employee_agrees: bool
    nav_agrees: bool
    decided_on: date


class ParticipationIssueRecorded(Contract):
    """The employee did not take part as the duty to participate (medvirkningsplikt) asks."""

    case_id: str = CASE_ID
    kind: Literal["did_not_attend", "did_not_share_information"]
    description: PersonalStr = Field(min_length=1)
    recorded_on: date


class AapApplicationRecorded(Contract):
    """The employee applied for work assessment allowance (arbeidsavklaringspenger)."""

    case_id: str = CASE_ID
    applied_on: date


class EmploymentReviewDecided(Contract):
    """The employer decided how employment continues after 12 months (aml § 15-8)."""

    case_id: str = CASE_ID
    decided_on: date
    decision: Literal["continue_with_adjustment", "leave", "end_employment"]


def register_measure_events(registry: EventRegistry) -> None:
    for name, model in (
        ("case.adjustment_recorded", AdjustmentRecorded),
        ("case.adjustment_evaluated", AdjustmentEvaluated),
        ("case.activity_requirement_assessed", ActivityRequirementAssessed),
        ("case.expert_assistance_requested", ExpertAssistanceRequested),
        ("case.expert_assistance_decided", ExpertAssistanceDecided),
        ("case.participation_issue_recorded", ParticipationIssueRecorded),
        ("case.aap_application_recorded", AapApplicationRecorded),
        ("case.employment_review_decided", EmploymentReviewDecided),
    ):
        registry.register(name, model)
