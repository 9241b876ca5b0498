"""Routes for sick notes (sykmeldinger) and self-certification (egenmelding) on a case."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from case_service.api.deps import CaseCommandsDep, PathId
from case_service.api.examples import example
from case_service.api.problems import COMMAND_RESPONSES
from case_service.api.schemas import CaseVersionResponse
from case_service.app.commands import (
    CancelSickNote,
    ChangeGrading,
    CorrectSickNote,
    ExtendSickNote,
    ReceiveSickNote,
    RegisterSelfCertification,
)
from case_service.app.commands.sick_leave import (
    CancelSickNoteBody,
    ChangeGradingBody,
    CorrectSickNoteBody,
    ExtendSickNoteBody,
)
from naervaer.privacy.fastapi import refuse_diagnosis

router = APIRouter(
    prefix="/v1/cases/{case_id}", tags=["sick leave"], dependencies=[Depends(refuse_diagnosis)]
)


@router.post(
    "/self-certifications",
    responses=COMMAND_RESPONSES,
    summary="Self-certify absence (egenmelding): the employee's own act, quota per tenant policy",
)
async def register_self_certification(
    case_id: str,
    body: Annotated[RegisterSelfCertification, example(RegisterSelfCertification)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    result = await commands.handlers.register_self_certification(case_id, body, commands.meta)
    return commands.answer(result)


@router.post(
    "/sick-notes",
    responses=COMMAND_RESPONSES,
    summary="Register a received sick note (sykmelding)",
)
async def receive_sick_note(
    case_id: str,
    body: Annotated[ReceiveSickNote, example(ReceiveSickNote)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    return await commands.run(case_id, body)


@router.post(
    "/sick-notes/{sick_note_id}/extend",
    responses=COMMAND_RESPONSES,
    summary="Extend a sick note (forlengelse) to a later last day",
)
async def extend_sick_note(
    case_id: str,
    sick_note_id: PathId,
    body: Annotated[ExtendSickNoteBody, example(ExtendSickNoteBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = ExtendSickNote(sick_note_id=sick_note_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/sick-notes/{sick_note_id}/correct",
    responses=COMMAND_RESPONSES,
    summary="Correct a sick note's period, grade or kind",
)
async def correct_sick_note(
    case_id: str,
    sick_note_id: PathId,
    body: Annotated[CorrectSickNoteBody, example(CorrectSickNoteBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = CorrectSickNote(sick_note_id=sick_note_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/sick-notes/{sick_note_id}/cancel",
    responses=COMMAND_RESPONSES,
    summary="Cancel a sick note (annullering)",
)
async def cancel_sick_note(
    case_id: str,
    sick_note_id: PathId,
    body: Annotated[CancelSickNoteBody, example(CancelSickNoteBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = CancelSickNote(sick_note_id=sick_note_id, **body.model_dump())
    return await commands.run(case_id, command)


@router.post(
    "/sick-notes/{sick_note_id}/change-grading",
    responses=COMMAND_RESPONSES,
    summary="Change the sick-leave grade from a day inside the note (endret gradering)",
)
async def change_grading(
    case_id: str,
    sick_note_id: PathId,
    body: Annotated[ChangeGradingBody, example(ChangeGradingBody)],
    commands: CaseCommandsDep,
) -> CaseVersionResponse:
    command = ChangeGrading(sick_note_id=sick_note_id, **body.model_dump())
    return await commands.run(case_id, command)
