"""Routes for follow-up: the conversation, the plan (oppfølgingsplan), the employee's consent
to the doctor taking part, and dialogue meetings (dialogmøter)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from case_service.api.deps import CaseCommandsDep, PathId
from case_service.api.examples import example
from case_service.api.problems import COMMAND_RESPONSES
from case_service.api.schemas import CaseVersionResponse
from case_service.app.commands import (
    CancelDialogueMeeting,
    CreateFollowUpPlan,
    HoldDialogueMeeting,
    HoldFollowUpConversation,
    RecordDoctorConsent,
    RecordMeetingException,
    RequestDialogueMeeting,
    ReviseFollowUpPlan,
    ScheduleDialogueMeeting,
    ShareFollowUpPlan,
)
from case_service.app.commands.follow_up import CancelDialogueMeetingBody, HoldDialogueMeetingBody
from naervaer.privacy.fastapi import refuse_diagnosis

router = APIRouter(
    prefix="/v1/cases/{case_id}", tags=["follow-up"], dependencies=[Depends(refuse_diagnosis)]
)


@router.post(
    "/follow-up-conversations",
    responses=COMMAND_RESPONSES,
    summary="Record the follow-up conversation (oppfølgingssamtale) and its three answers",
)
async def hold_follow_up_conversation(
    case_id: str,
    body: Annotated[HoldFollowUpConversation, example(HoldFollowUpConversation)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/follow-up-plan",
    responses=COMMAND_RESPONSES,
    summary="Create the follow-up plan (oppfølgingsplan), version 1",
)
async def create_follow_up_plan(
    case_id: str,
    body: Annotated[CreateFollowUpPlan, example(CreateFollowUpPlan)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/follow-up-plan/revise",
    responses=COMMAND_RESPONSES,
    summary="Revise the follow-up plan: a new version based on the current one",
)
async def revise_follow_up_plan(
    case_id: str,
    body: Annotated[ReviseFollowUpPlan, example(ReviseFollowUpPlan)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/follow-up-plan/share",
    responses=COMMAND_RESPONSES,
    summary="Record that a plan version was shared with the doctor or NAV",
)
async def share_follow_up_plan(
    case_id: str,
    body: Annotated[ShareFollowUpPlan, example(ShareFollowUpPlan)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/doctor-consent",
    responses=COMMAND_RESPONSES,
    summary="The employee's consent to the doctor taking part in meetings (employee only)",
)
async def record_doctor_consent(
    case_id: str,
    body: Annotated[RecordDoctorConsent, example(RecordDoctorConsent)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/dialogue-meeting-requests",
    responses=COMMAND_RESPONSES,
    summary="Record a party's request for a dialogue meeting",
)
async def request_dialogue_meeting(
    case_id: str,
    body: Annotated[RequestDialogueMeeting, example(RequestDialogueMeeting)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/dialogue-meetings",
    responses=COMMAND_RESPONSES,
    summary="Schedule a dialogue meeting (dialogmøte 1, 2 or 3; meeting 2 is NAV's)",
)
async def schedule_dialogue_meeting(
    case_id: str,
    body: Annotated[ScheduleDialogueMeeting, example(ScheduleDialogueMeeting)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/dialogue-meetings/{meeting_id}/hold",
    responses=COMMAND_RESPONSES,
    summary="Record that a scheduled dialogue meeting was held, with its minutes",
)
async def hold_dialogue_meeting(
    case_id: str,
    meeting_id: PathId,
    body: Annotated[HoldDialogueMeetingBody, example(HoldDialogueMeetingBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = HoldDialogueMeeting(meeting_id=meeting_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/dialogue-meetings/{meeting_id}/cancel",
    responses=COMMAND_RESPONSES,
    summary="Cancel a scheduled dialogue meeting",
)
async def cancel_dialogue_meeting(
    case_id: str,
    meeting_id: PathId,
    body: Annotated[CancelDialogueMeetingBody, example(CancelDialogueMeetingBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = CancelDialogueMeeting(meeting_id=meeting_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/meeting-exceptions",
    responses=COMMAND_RESPONSES,
    summary="Record NAV's exception from dialogue meeting 2 (unntak)",
)
async def record_meeting_exception(
    case_id: str,
    body: Annotated[RecordMeetingException, example(RecordMeetingException)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)
