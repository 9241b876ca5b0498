"""Routes for the employer's own records: an employee's right to self-certify
(egenmeldingsrett) and the tenant's case policy (HR or system of the tenant)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from case_service.api.deps import HandlersDep, MetaDep, PathId
from case_service.api.examples import example
from case_service.api.problems import responses
from case_service.api.schemas import CasePolicyResponse, EmployeeVersionResponse
from case_service.app.commands import (
    RestoreSelfCertification,
    SetCasePolicy,
    WithdrawSelfCertification,
)
from case_service.app.handlers import EmployeeVersion
from case_service.domain.tenant_policy import CasePolicy
from naervaer.privacy.fastapi import refuse_diagnosis

_WRITE = responses(400, 401, 403, 404, 409, 412, 422)

employees = APIRouter(
    prefix="/v1/employees/{employee_id}/self-certification",
    tags=["employees"],
    dependencies=[Depends(refuse_diagnosis)],
)
tenants = APIRouter(
    prefix="/v1/tenants/{tenant}", tags=["tenants"], dependencies=[Depends(refuse_diagnosis)]
)


@employees.post(
    "/withdraw",
    responses=_WRITE,
    summary="Withdraw the employee's right to self-certify after misuse (ftrl § 8-27)",
)
async def withdraw_self_certification(
    employee_id: PathId,
    body: Annotated[WithdrawSelfCertification, example(WithdrawSelfCertification)],
    handlers: HandlersDep,
    meta: MetaDep,
    response: Response,
) -> EmployeeVersionResponse:
    result = await handlers.withdraw_self_certification(employee_id, body, meta)
    return _employee_answer(result, response)


@employees.post(
    "/restore",
    responses=_WRITE,
    summary="Restore the employee's right to self-certify",
)
async def restore_self_certification(
    employee_id: PathId, handlers: HandlersDep, meta: MetaDep, response: Response
) -> EmployeeVersionResponse:
    result = await handlers.restore_self_certification(
        employee_id, RestoreSelfCertification(), meta
    )
    return _employee_answer(result, response)


@tenants.get(
    "/case-policy",
    responses=responses(401, 403, 404),
    summary="The tenant's case policy (the defaults when never set)",
)
async def get_case_policy(
    tenant: PathId, handlers: HandlersDep, meta: MetaDep, response: Response
) -> CasePolicyResponse:
    return _policy_answer(await handlers.case_policy(tenant, meta), response)


@tenants.put(
    "/case-policy",
    responses=_WRITE,
    summary="Set the tenant's case policy: self-certification quota and breach handling",
)
async def set_case_policy(
    tenant: PathId,
    body: Annotated[SetCasePolicy, example(SetCasePolicy)],
    handlers: HandlersDep,
    meta: MetaDep,
    response: Response,
) -> CasePolicyResponse:
    return _policy_answer(await handlers.set_case_policy(tenant, body, meta), response)


def _employee_answer(result: EmployeeVersion, response: Response) -> EmployeeVersionResponse:
    response.headers["ETag"] = f'"{result.version}"'
    return EmployeeVersionResponse(employee_id=result.employee_id, version=result.version)


def _policy_answer(policy: CasePolicy, response: Response) -> CasePolicyResponse:
    response.headers["ETag"] = f'"{policy.version}"'
    quota = policy.quota
    return CasePolicyResponse(
        tenant=policy.tenant,
        version=policy.version,
        self_certification_quota=policy.self_certification_quota,
        quota_breach=policy.quota_breach,
        max_days_each=quota.max_days_each,
        max_times=quota.max_times,
        max_days_total=quota.max_days_total,
    )
