"""Routes of the privacy lifecycle: retention policy, legal hold, retention status, erasure,
the erasure sweep (HR only) and the export of everything held about an employee (HR or the
employee themself). Every call writes an access record, refused ones too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from case_service.api.deps import MetaDep, PathId
from case_service.api.examples import example
from case_service.api.privacy_schemas import (
    ErasureResponse,
    LegalHoldResponse,
    PersonalDataResponse,
    RetentionPolicyResponse,
    RetentionResponse,
    SweepResponse,
    SweptErasure,
)
from case_service.api.problems import responses
from case_service.app.commands import PlaceLegalHold, SetRetentionPolicy
from case_service.app.export import Exporter
from case_service.app.privacy import Privacy
from case_service.domain.employee import EmployeeRecord
from naervaer.privacy.fastapi import refuse_diagnosis

PRIVACY_KEY = "privacy"
EXPORTER_KEY = "exporter"
_READ = responses(401, 403, 422)
_WRITE = responses(400, 401, 403, 409, 412, 422)


async def _privacy(request: Request) -> Privacy:
    privacy: Privacy = getattr(request.app.state, PRIVACY_KEY)
    return privacy


async def _exporter(request: Request) -> Exporter:
    exporter: Exporter = getattr(request.app.state, EXPORTER_KEY)
    return exporter


PrivacyDep = Annotated[Privacy, Depends(_privacy)]
ExporterDep = Annotated[Exporter, Depends(_exporter)]
router = APIRouter(tags=["privacy"], dependencies=[Depends(refuse_diagnosis)])


@router.get(
    "/v1/tenant/retention-policy",
    responses=_READ,
    summary="The tenant's retention period after an employee's last case closed (default 36)",
)
async def get_retention_policy(
    privacy: PrivacyDep, meta: MetaDep, response: Response
) -> RetentionPolicyResponse:
    policy = await privacy.retention_policy(meta)
    response.headers["ETag"] = f'"{policy.version}"'
    return RetentionPolicyResponse.of(policy)


@router.put(
    "/v1/tenant/retention-policy",
    responses=_WRITE,
    summary="Set the tenant's retention period (months after the last case closed)",
)
async def set_retention_policy(
    body: Annotated[SetRetentionPolicy, example(SetRetentionPolicy)],
    privacy: PrivacyDep,
    meta: MetaDep,
    response: Response,
) -> RetentionPolicyResponse:
    policy = await privacy.set_retention_policy(body, meta)
    response.headers["ETag"] = f'"{policy.version}"'
    return RetentionPolicyResponse.of(policy)


@router.put(
    "/v1/employees/{employee_id}/legal-hold",
    responses=_WRITE,
    summary="Place a legal hold (rettslig hold): the employee's data is not erased meanwhile",
)
async def place_legal_hold(
    employee_id: PathId,
    body: Annotated[PlaceLegalHold, example(PlaceLegalHold)],
    privacy: PrivacyDep,
    meta: MetaDep,
    response: Response,
) -> LegalHoldResponse:
    return _hold(await privacy.place_legal_hold(employee_id, body, meta), response)


@router.delete(
    "/v1/employees/{employee_id}/legal-hold",
    responses=_WRITE,
    summary="Lift the legal hold: erasure after the retention period applies again",
)
async def lift_legal_hold(
    employee_id: PathId, privacy: PrivacyDep, meta: MetaDep, response: Response
) -> LegalHoldResponse:
    return _hold(await privacy.lift_legal_hold(employee_id, meta), response)


@router.get(
    "/v1/employees/{employee_id}/retention",
    responses=_READ,
    summary="The employee's retention status: cases, erasable from when, legal hold",
)
async def get_retention(
    employee_id: PathId, privacy: PrivacyDep, meta: MetaDep
) -> RetentionResponse:
    return RetentionResponse.of(await privacy.retention_of(employee_id, meta))


@router.post(
    "/v1/employees/{employee_id}/erasure",
    responses=responses(400, 401, 403, 404, 409, 422),
    summary="Erase the employee's personal data (every case closed, retention passed, no hold)",
)
async def erase_personal_data(
    employee_id: PathId, privacy: PrivacyDep, meta: MetaDep
) -> ErasureResponse:
    return ErasureResponse.of(await privacy.erase(employee_id, meta))


@router.post(
    "/v1/privacy/erasure-sweep",
    responses=responses(400, 401, 403, 422),
    summary="Erase every eligible employee of the tenant now (also runs periodically)",
)
async def erasure_sweep(privacy: PrivacyDep, meta: MetaDep) -> SweepResponse:
    done = await privacy.sweep(meta)
    return SweepResponse(
        erased=[SweptErasure(key_id=d.key_id, case_ids=list(d.case_ids)) for d in done]
    )


@router.get(
    "/v1/employees/{employee_id}/personal-data",
    responses=_READ,
    summary="Everything the case service holds about the employee (GDPR art. 15), decrypted",
)
async def export_personal_data(
    employee_id: PathId, exporter: ExporterDep, meta: MetaDep
) -> PersonalDataResponse:
    export = await exporter.export(employee_id, meta)
    today = exporter.privacy.eraser.today()
    return PersonalDataResponse.of(export, today)


def _hold(record: EmployeeRecord, response: Response) -> LegalHoldResponse:
    response.headers["ETag"] = f'"{record.version}"'
    return LegalHoldResponse.of(record)
