"""Routes for measures and decisions: adjustments (tilrettelegging), the activity requirement,
expert assistance (ekspertbistand), participation issues, AAP and the employment review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from case_service.api.deps import CaseCommandsDep, PathId
from case_service.api.examples import example
from case_service.api.problems import COMMAND_RESPONSES
from case_service.api.schemas import CaseVersionResponse
from case_service.app.commands import (
    AssessActivityRequirement,
    DecideEmploymentReview,
    DecideExpertAssistance,
    EvaluateAdjustment,
    RecordAapApplication,
    RecordAdjustment,
    RecordParticipationIssue,
    RequestExpertAssistance,
)
from case_service.app.commands.measures import DecideExpertAssistanceBody, EvaluateAdjustmentBody
from naervaer.privacy.fastapi import refuse_diagnosis

router = APIRouter(
    prefix="/v1/cases/{case_id}", tags=["measures"], dependencies=[Depends(refuse_diagnosis)]
)


@router.post(
    "/adjustments",
    responses=COMMAND_RESPONSES,
    summary="Record an adjustment (tilrettelegging): concrete, with an end date",
)
async def record_adjustment(
    case_id: str,
    body: Annotated[RecordAdjustment, example(RecordAdjustment)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/adjustments/{adjustment_id}/evaluate",
    responses=COMMAND_RESPONSES,
    summary="Evaluate an adjustment (once)",
)
async def evaluate_adjustment(
    case_id: str,
    adjustment_id: PathId,
    body: Annotated[EvaluateAdjustmentBody, example(EvaluateAdjustmentBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = EvaluateAdjustment(adjustment_id=adjustment_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/activity-requirement-assessments",
    responses=COMMAND_RESPONSES,
    summary="Record NAV's assessment of the activity requirement (aktivitetsplikt)",
)
async def assess_activity_requirement(
    case_id: str,
    body: Annotated[AssessActivityRequirement, example(AssessActivityRequirement)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/expert-assistance-requests",
    responses=COMMAND_RESPONSES,
    summary="Request expert assistance (ekspertbistand), at most NOK 20 000 per case",
)
async def request_expert_assistance(
    case_id: str,
    body: Annotated[RequestExpertAssistance, example(RequestExpertAssistance)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/expert-assistance-requests/{request_id}/decide",
    responses=COMMAND_RESPONSES,
    summary="Record NAV's decision on expert assistance",
)
async def decide_expert_assistance(
    case_id: str,
    request_id: PathId,
    body: Annotated[DecideExpertAssistanceBody, example(DecideExpertAssistanceBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = DecideExpertAssistance(request_id=request_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/participation-issues",
    responses=COMMAND_RESPONSES,
    summary="Record that the employee did not take part as required (medvirkningsplikt)",
)
async def record_participation_issue(
    case_id: str,
    body: Annotated[RecordParticipationIssue, example(RecordParticipationIssue)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/aap-applications",
    responses=COMMAND_RESPONSES,
    summary="Record the employee's application for AAP (arbeidsavklaringspenger)",
)
async def record_aap_application(
    case_id: str,
    body: Annotated[RecordAapApplication, example(RecordAapApplication)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/employment-review",
    responses=COMMAND_RESPONSES,
    summary="Record the employer's decision after 12 months (aml § 15-8)",
)
async def decide_employment_review(
    case_id: str,
    body: Annotated[DecideEmploymentReview, example(DecideEmploymentReview)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)
