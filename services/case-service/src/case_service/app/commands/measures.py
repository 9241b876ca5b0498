"""Commands on measures and decisions: adjustments, activity requirement, expert assistance,
participation, AAP and the employment review. NAV's acts are named as ``policy.NAV_ACTIONS``."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from case_service.app.commands.base import CaseCommand, Command, id_field, text_field
from case_service.domain.case import Case
from naervaer.contracts.measures import EXPERT_ASSISTANCE_MAX_NOK


class RecordAdjustment(CaseCommand):
    """An adjustment (tilrettelegging): concrete, temporary, written down."""

    action = "record_adjustment"
    adjustment_id: str = id_field("The adjustment's id, unique within the case.")
    area: Literal["tasks", "working_time", "workplace"]
    description: str = text_field("What concretely changes, for how long.")
    starts_on: date
    ends_on: date = Field(description="Adjustments are temporary: the day it ends is required.")

    def execute(self, case: Case, today: date) -> None:
        case.record_adjustment(
            adjustment_id=self.adjustment_id,
            area=self.area,
            description=self.description,
            starts_on=self.starts_on,
            ends_on=self.ends_on,
        )


class EvaluateAdjustmentBody(Command):
    """Did the adjustment help the employee stay in or return to work?"""

    outcome: Literal["worked", "partly_worked", "did_not_work"]
    notes: str = text_field("What was learnt.")


class EvaluateAdjustment(EvaluateAdjustmentBody, CaseCommand):
    action = "evaluate_adjustment"
    adjustment_id: str = id_field("The adjustment, from the path.")

    def execute(self, case: Case, today: date) -> None:
        case.evaluate_adjustment(
            adjustment_id=self.adjustment_id, outcome=self.outcome, notes=self.notes, today=today
        )


class AssessActivityRequirement(CaseCommand):
    """NAV assessed the activity requirement (aktivitetsplikt, ftrl § 8-8)."""

    action = "activity_assessment"
    outcome: Literal["met", "exempt", "not_met"]
    exemption_reason: Literal["medical_reasons", "adjustment_not_possible"] | None = Field(
        default=None, description="Required when, and only when, the outcome is exempt."
    )

    def execute(self, case: Case, today: date) -> None:
        case.assess_activity_requirement(
            outcome=self.outcome, exemption_reason=self.exemption_reason, today=today
        )


class RequestExpertAssistance(CaseCommand):
    """The employer asks NAV to fund expert assistance (ekspertbistand)."""

    action = "request_expert_assistance"
    request_id: str = id_field("The request's id, unique within the case.")
    amount_nok: int = Field(ge=1, le=EXPERT_ASSISTANCE_MAX_NOK, description="NOK, at most 20 000.")
    purpose: str = text_field("What the expert is to help with.")
    internal_measures_tried: str = text_field("The internal measures tried first.")

    def execute(self, case: Case, today: date) -> None:
        case.request_expert_assistance(
            request_id=self.request_id,
            amount_nok=self.amount_nok,
            purpose=self.purpose,
            internal_measures_tried=self.internal_measures_tried,
            today=today,
        )


class DecideExpertAssistanceBody(Command):
    """NAV's decision; approval needs employer, employee and NAV to agree."""

    approved: bool
    employer_agrees: bool
    employee_agrees: bool
    nav_agrees: bool


class DecideExpertAssistance(DecideExpertAssistanceBody, CaseCommand):
    action = "expert_assistance_decision"
    request_id: str = id_field("The request, from the path.")

    def execute(self, case: Case, today: date) -> None:
        case.decide_expert_assistance(
            request_id=self.request_id,
            approved=self.approved,
            employer_agrees=self.employer_agrees,
            employee_agrees=self.employee_agrees,
            nav_agrees=self.nav_agrees,
            today=today,
        )


class RecordParticipationIssue(CaseCommand):
    """The employee did not take part as the duty to participate asks (medvirkningsplikt)."""

    action = "record_participation_issue"
    kind: Literal["did_not_attend", "did_not_share_information"]
    description: str = text_field("What happened (no health data).")

    def execute(self, case: Case, today: date) -> None:
        case.record_participation_issue(kind=self.kind, description=self.description, today=today)


class RecordAapApplication(CaseCommand):
    """The employee applied for work assessment allowance (arbeidsavklaringspenger)."""

    action = "record_aap_application"
    applied_on: date

    def execute(self, case: Case, today: date) -> None:
        case.record_aap_application(applied_on=self.applied_on, today=today)


class DecideEmploymentReview(CaseCommand):
    """How employment continues after 12 months of sickness (aml § 15-8)."""

    action = "decide_employment_review"
    decision: Literal["continue_with_adjustment", "leave", "end_employment"]

    def execute(self, case: Case, today: date) -> None:
        case.decide_employment_review(decision=self.decision, today=today)
