"""Measures and decisions: adjustments (tilrettelegging), the activity requirement
(aktivitetsplikt), expert assistance (ekspertbistand), participation, AAP and the review.

Rules: an adjustment is concrete (a few words at least), temporary (it ends on or after it
starts) and evaluated once, after it started. Expert assistance is at most NOK 20 000 per case
(open and approved requests together); NAV approves only when employer, employee and NAV agree.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from case_service.domain.base import CaseBase
from case_service.domain.errors import NotFound, RuleBroken
from case_service.domain.periods import not_in_future
from case_service.domain.state import Adjustment
from naervaer.contracts.measures import (
    EXPERT_ASSISTANCE_MAX_NOK,
    AapApplicationRecorded,
    ActivityRequirementAssessed,
    AdjustmentEvaluated,
    AdjustmentRecorded,
    EmploymentReviewDecided,
    ExpertAssistanceDecided,
    ExpertAssistanceRequested,
    ParticipationIssueRecorded,
)

CONCRETE_MIN_WORDS = 3
"""An adjustment described in fewer words is not concrete enough to evaluate later."""


class MeasureDecisions(CaseBase):
    def record_adjustment(
        self,
        *,
        adjustment_id: str,
        area: Literal["tasks", "working_time", "workplace"],
        description: str,
        starts_on: date,
        ends_on: date,
    ) -> None:
        """An adjustment the employer makes, written down so it can be evaluated."""
        self._require_open()
        if adjustment_id in self.state.adjustments:
            raise RuleBroken("adjustment_exists", f"adjustment {adjustment_id} exists")
        if len(description.split()) < CONCRETE_MIN_WORDS:
            raise RuleBroken(
                "adjustment_not_concrete",
                f"describe the adjustment concretely (at least {CONCRETE_MIN_WORDS} words)",
            )
        if ends_on < starts_on:
            raise RuleBroken(
                "adjustment_not_temporary", f"the adjustment ends ({ends_on}) before it starts"
            )
        self._record(
            AdjustmentRecorded(
                case_id=self.case_id,
                adjustment_id=adjustment_id,
                area=area,
                description=description,
                starts_on=starts_on,
                ends_on=ends_on,
            )
        )

    def evaluate_adjustment(
        self,
        *,
        adjustment_id: str,
        outcome: Literal["worked", "partly_worked", "did_not_work"],
        notes: str,
        today: date,
    ) -> None:
        """Did the adjustment help the employee stay in or return to work?"""
        adjustment = self._adjustment(adjustment_id)
        if adjustment.evaluated:
            raise RuleBroken(
                "adjustment_already_evaluated", f"adjustment {adjustment_id} was evaluated"
            )
        if today < adjustment.starts_on:
            raise RuleBroken(
                "adjustment_not_started", f"the adjustment starts on {adjustment.starts_on}"
            )
        self._record(
            AdjustmentEvaluated(
                case_id=self.case_id,
                adjustment_id=adjustment_id,
                evaluated_on=today,
                outcome=outcome,
                notes=notes,
            )
        )

    def assess_activity_requirement(
        self,
        *,
        outcome: Literal["met", "exempt", "not_met"],
        exemption_reason: Literal["medical_reasons", "adjustment_not_possible"] | None,
        today: date,
    ) -> None:
        """NAV assessed the activity requirement (ftrl § 8-8 (2)); exemptions carry a reason."""
        self._require_open()
        if (outcome == "exempt") != (exemption_reason is not None):
            raise RuleBroken(
                "exemption_reason_mismatch", "an exemption, and only an exemption, has a reason"
            )
        self._record(
            ActivityRequirementAssessed(
                case_id=self.case_id,
                assessed_on=today,
                outcome=outcome,
                exemption_reason=exemption_reason,
            )
        )

    def request_expert_assistance(
        self,
        *,
        request_id: str,
        amount_nok: int,
        purpose: str,
        internal_measures_tried: str,
        today: date,
    ) -> None:
        """The employer asks NAV to fund expert assistance after trying internal measures."""
        self._require_open()
        if request_id in self.state.expert_requests:
            raise RuleBroken("expert_assistance_exists", f"request {request_id} exists")
        committed = sum(
            r.amount_nok for r in self.state.expert_requests.values() if not r.decided or r.approved
        )
        if committed + amount_nok > EXPERT_ASSISTANCE_MAX_NOK:
            raise RuleBroken(
                "expert_assistance_limit",
                f"at most NOK {EXPERT_ASSISTANCE_MAX_NOK} per case; NOK {committed} is "
                "requested or approved already",
            )
        self._record(
            ExpertAssistanceRequested(
                case_id=self.case_id,
                request_id=request_id,
                amount_nok=amount_nok,
                purpose=purpose,
                internal_measures_tried=internal_measures_tried,
                requested_on=today,
            )
        )

    def decide_expert_assistance(
        self,
        *,
        request_id: str,
        approved: bool,
        employer_agrees: bool,
        employee_agrees: bool,
        nav_agrees: bool,
        today: date,
    ) -> None:
        """NAV's decision; approval needs employer, employee and NAV to agree."""
        self._require_open()
        self._check_undecided(request_id)
        if approved and not (employer_agrees and employee_agrees and nav_agrees):
            raise RuleBroken(
                "expert_assistance_needs_agreement",
                "approval needs employer, employee and NAV to agree",
            )
        self._record(
            ExpertAssistanceDecided(
                case_id=self.case_id,
                request_id=request_id,
                approved=approved,
                employer_agrees=employer_agrees,
                employee_agrees=employee_agrees,
                nav_agrees=nav_agrees,
                decided_on=today,
            )
        )

    def record_participation_issue(
        self,
        *,
        kind: Literal["did_not_attend", "did_not_share_information"],
        description: str,
        today: date,
    ) -> None:
        """The employee did not take part as the duty to participate asks (medvirkningsplikt)."""
        self._require_open()
        self._record(
            ParticipationIssueRecorded(
                case_id=self.case_id, kind=kind, description=description, recorded_on=today
            )
        )

    def record_aap_application(self, *, applied_on: date, today: date) -> None:
        """The employee applied for work assessment allowance (arbeidsavklaringspenger)."""
        self._require_open()
        not_in_future(applied_on, today, "the application")
        self._record(AapApplicationRecorded(case_id=self.case_id, applied_on=applied_on))

    def decide_employment_review(
        self,
        *,
        decision: Literal["continue_with_adjustment", "leave", "end_employment"],
        today: date,
    ) -> None:
        """How employment continues after 12 months of sickness (aml § 15-8)."""
        self._require_open()
        self._record(
            EmploymentReviewDecided(case_id=self.case_id, decided_on=today, decision=decision)
        )

    def _adjustment(self, adjustment_id: str) -> Adjustment:
        self._require_open()
        adjustment = self.state.adjustments.get(adjustment_id)
        if adjustment is None:
            raise NotFound("adjustment_not_found", f"case has no adjustment {adjustment_id}")
        return adjustment

    def _check_undecided(self, request_id: str) -> None:
        request = self.state.expert_requests.get(request_id)
        if request is None:
            raise NotFound(
                "expert_assistance_not_found", f"case has no expert assistance request {request_id}"
            )
        if request.decided:
            raise RuleBroken(
                "expert_assistance_already_decided", f"request {request_id} was decided"
            )
