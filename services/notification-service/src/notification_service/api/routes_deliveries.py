"""What was sent to whom: deliveries by case, by recipient, one by one; and test sends."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Response

from naervaer.auth.policy import CaseRef, can_read_case, can_read_tenant_wide
from notification_service.adapters import delivery_queries
from notification_service.adapters.projections import parties_in_any_tenant
from notification_service.api.access import can_administer, can_read_party
from notification_service.api.common import (
    CallerDep,
    PartyId,
    example,
    not_found,
    problem_responses,
)
from notification_service.api.schemas import (
    TEST_SEND_EXAMPLE,
    DeliveriesOut,
    DeliveryOut,
    TestSendIn,
    TestSendOut,
)
from notification_service.app.test_send import request_test_send

router = APIRouter(prefix="/v1", tags=["deliveries"])
READ_ERRORS = problem_responses(401, 403, 404, 422)


@router.get(
    "/cases/{case_id}/deliveries",
    response_model=DeliveriesOut,
    responses=READ_ERRORS,
    summary="Every message about a case: status, attempts and the last error",
)
async def case_deliveries(case_id: str, caller: CallerDep) -> DeliveriesOut:
    async with caller.deps.engine.connect() as tx:
        parties = await parties_in_any_tenant(tx, case_id)
        if parties is None:
            raise not_found("No such case.")
        ref = CaseRef(
            parties.tenant, case_id, parties.employee_id, parties.manager_id, parties.org_unit or ""
        )
        decision = can_read_case(caller.principal, ref)
        await caller.check(decision, "read", "deliveries", case_id, case_id=case_id)
        views = await delivery_queries.for_case(tx, parties.tenant, case_id)
    return DeliveriesOut(deliveries=[DeliveryOut.of(v) for v in views])


@router.get(
    "/recipients/{party_id}/deliveries",
    response_model=DeliveriesOut,
    responses=READ_ERRORS,
    summary="Every message to one party (the party themself, HR, auditors)",
)
async def recipient_deliveries(party_id: PartyId, caller: CallerDep) -> DeliveriesOut:
    decision = can_read_party(caller.principal, caller.tenant, party_id)
    await caller.check(decision, "read", "deliveries", party_id)
    async with caller.deps.engine.connect() as tx:
        views = await delivery_queries.for_recipient(tx, caller.tenant, party_id)
    return DeliveriesOut(deliveries=[DeliveryOut.of(v) for v in views])


@router.get(
    "/deliveries/{delivery_id}",
    response_model=DeliveryOut,
    responses=READ_ERRORS,
    summary="One delivery (e.g. the result of a test send)",
)
async def one_delivery(delivery_id: UUID, caller: CallerDep) -> DeliveryOut:
    decision = can_read_tenant_wide(caller.principal, caller.tenant)
    await caller.check(decision, "read", "delivery", str(delivery_id))
    async with caller.deps.engine.connect() as tx:
        view = await delivery_queries.one(tx, caller.tenant, delivery_id)
    if view is None:
        raise not_found("No such delivery.")
    return DeliveryOut.of(view)


@router.post(
    "/test-send",
    status_code=202,
    response_model=TestSendOut,
    responses=problem_responses(400, 401, 403, 422),
    summary="Send the test message to a party through one channel (HR)",
)
async def test_send(
    body: Annotated[TestSendIn, example(TEST_SEND_EXAMPLE)],
    caller: CallerDep,
    response: Response,
) -> TestSendOut:
    decision = can_administer(caller.principal, caller.tenant)
    await caller.check(decision, "test_send", "recipient", body.party_id)
    deps = caller.deps
    delivery_id = await request_test_send(
        deps.engine, deps.clock, caller.tenant, body.party_id, body.channel
    )
    response.headers["Location"] = f"/v1/deliveries/{delivery_id}"
    return TestSendOut(delivery_id=delivery_id, status="pending")
