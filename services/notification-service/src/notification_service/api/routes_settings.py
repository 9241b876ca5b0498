"""The tenant's settings: recipients (address book) and the notification policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from naervaer.auth.fastapi import CurrentPrincipal
from naervaer.auth.policy import can_read_tenant_wide
from notification_service.adapters import directory
from notification_service.api.access import can_administer, can_read_party
from notification_service.api.common import (
    PartyId,
    check_access,
    example,
    not_found,
    problem_responses,
    unprocessable,
)
from notification_service.api.deps import Notifications, NotificationsDep
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
async def get_recipient(
    party_id: PartyId, principal: CurrentPrincipal, request: Request, deps: NotificationsDep
) -> RecipientOut:
    decision = can_read_party(principal, principal.tenant, party_id)
    await check_access(
        request,
        principal,
        deps,
        decision,
        operation="read",
        resource="recipient",
        resource_id=party_id,
    )
    async with deps.engine.connect() as tx:
        found = await directory.get_recipient(tx, principal.tenant, party_id)
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
    principal: CurrentPrincipal,
    request: Request,
    deps: NotificationsDep,
) -> RecipientOut:
    decision = can_administer(principal, principal.tenant)
    await check_access(
        request,
        principal,
        deps,
        decision,
        operation="update",
        resource="recipient",
        resource_id=party_id,
    )
    async with deps.engine.begin() as tx:
        await directory.put_recipient(tx, principal.tenant, party_id, body, deps.clock.now())
    return RecipientOut(party_id=party_id, **body.model_dump())


@router.get(
    "/policy",
    response_model=PolicyOut,
    responses=READ_ERRORS,
    summary="The tenant's notification policy (the default until HR changes it)",
)
async def get_policy(
    principal: CurrentPrincipal, request: Request, deps: NotificationsDep
) -> PolicyOut:
    decision = can_read_tenant_wide(principal, principal.tenant)
    await check_access(
        request,
        principal,
        deps,
        decision,
        operation="read",
        resource="policy",
        resource_id=principal.tenant,
    )
    return await _policy_out(deps, principal.tenant)


@router.put(
    "/policy",
    response_model=PolicyOut,
    responses=WRITE_ERRORS,
    summary="Replace the tenant's notification policy (HR)",
)
async def put_policy(
    body: Annotated[PolicyIn, example(POLICY_EXAMPLE)],
    principal: CurrentPrincipal,
    request: Request,
    deps: NotificationsDep,
) -> PolicyOut:
    decision = can_administer(principal, principal.tenant)
    await check_access(
        request,
        principal,
        deps,
        decision,
        operation="update",
        resource="policy",
        resource_id=principal.tenant,
    )
    policy = TenantPolicy.model_validate(body.model_dump(exclude={"webhook_secret"}))
    async with deps.engine.begin() as tx:
        stored_secret = await directory.get_webhook_secret(tx, principal.tenant)
        if policy.webhook_url is not None and not (body.webhook_secret or stored_secret):
            raise unprocessable(
                "webhook-secret-missing", "a webhook_url needs a webhook_secret (16+ characters)"
            )
        await directory.put_policy(
            tx, principal.tenant, policy, deps.clock.now(), webhook_secret=body.webhook_secret
        )
    return await _policy_out(deps, principal.tenant)


async def _policy_out(deps: Notifications, tenant: str) -> PolicyOut:
    async with deps.engine.connect() as tx:
        policy = await directory.get_policy(tx, tenant)
        secret = await directory.get_webhook_secret(tx, tenant)
    return PolicyOut(**policy.model_dump(), webhook_secret_set=secret is not None)
