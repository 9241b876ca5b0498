"""The tenant's settings: recipients (address book) and the notification policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from naervaer.auth.policy import can_read_tenant_wide
from notification_service.adapters import directory
from notification_service.api.access import can_administer, can_read_party
from notification_service.api.common import (
    CallerDep,
    PartyId,
    example,
    not_found,
    problem_responses,
    unprocessable,
)
from notification_service.api.deps import Notifications
from notification_service.api.schemas import (
    POLICY_EXAMPLE,
    RECIPIENT_EXAMPLE,
    PolicyIn,
    PolicyOut,
    RecipientOut,
)
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.recipients import Recipient

router = APIRouter(prefix="/v1", tags=["settings"])
READ_ERRORS = problem_responses(401, 403, 404)
WRITE_ERRORS = problem_responses(400, 401, 403, 422)


@router.get(
    "/recipients/{party_id}",
    response_model=RecipientOut,
    responses=READ_ERRORS,
    summary="A party's addresses, language and channel preference",
)
async def get_recipient(party_id: PartyId, caller: CallerDep) -> RecipientOut:
    decision = can_read_party(caller.principal, caller.tenant, party_id)
    await caller.check(decision, "read", "recipient", party_id)
    async with caller.deps.engine.connect() as tx:
        found = await directory.get_recipient(tx, caller.tenant, party_id)
    if found is None:
        raise not_found("No such recipient.")
    return RecipientOut(party_id=party_id, **found.model_dump())


@router.put(
    "/recipients/{party_id}",
    response_model=RecipientOut,
    responses=WRITE_ERRORS,
    summary="Set a party's addresses, language and channels (HR)",
)
async def put_recipient(
    party_id: PartyId,
    body: Annotated[Recipient, example(RECIPIENT_EXAMPLE)],
    caller: CallerDep,
) -> RecipientOut:
    decision = can_administer(caller.principal, caller.tenant)
    await caller.check(decision, "update", "recipient", party_id)
    deps = caller.deps
    async with deps.engine.begin() as tx:
        await directory.put_recipient(tx, caller.tenant, party_id, body, deps.clock.now())
    return RecipientOut(party_id=party_id, **body.model_dump())


@router.get(
    "/policy",
    response_model=PolicyOut,
    responses=READ_ERRORS,
    summary="The tenant's notification policy (the default until HR changes it)",
)
async def get_policy(caller: CallerDep) -> PolicyOut:
    decision = can_read_tenant_wide(caller.principal, caller.tenant)
    await caller.check(decision, "read", "policy", caller.tenant)
    return await _policy_out(caller.deps, caller.tenant)


@router.put(
    "/policy",
    response_model=PolicyOut,
    responses=WRITE_ERRORS,
    summary="Replace the tenant's notification policy (HR)",
)
async def put_policy(
    body: Annotated[PolicyIn, example(POLICY_EXAMPLE)],
    caller: CallerDep,
) -> PolicyOut:
    decision = can_administer(caller.principal, caller.tenant)
    await caller.check(decision, "update", "policy", caller.tenant)
    policy = TenantPolicy.model_validate(body.model_dump(exclude={"webhook_secret"}))
    deps, tenant = caller.deps, caller.tenant
    async with deps.engine.begin() as tx:
        stored_secret = await directory.get_webhook_secret(tx, tenant)
        if policy.webhook_url is not None and not (body.webhook_secret or stored_secret):
            raise unprocessable(
                "webhook-secret-missing", "a webhook_url needs a webhook_secret (16+ characters)"
            )
        await directory.put_policy(
            tx, tenant, policy, deps.clock.now(), webhook_secret=body.webhook_secret
        )
    return await _policy_out(deps, tenant)


async def _policy_out(deps: Notifications, tenant: str) -> PolicyOut:
    async with deps.engine.connect() as tx:
        policy = await directory.get_policy(tx, tenant)
        secret = await directory.get_webhook_secret(tx, tenant)
    return PolicyOut(**policy.model_dump(), webhook_secret_set=secret is not None)
