"""Cases the hostile tests attack, made through the public API as HR of their tenant would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .hosting import Platform, eventually

PLAN = {
    "typical_workday": "Picking orders in the warehouse, 7.5 hours, mostly standing.",
    "tasks_that_can_still_be_done": "Order registration at a desk.",
    "tasks_that_can_not_be_done": "Lifting over 10 kg.",
    "previous_facilitation": "Shorter shifts tried in week 2.",
    "planned_facilitation": "Desk tasks four hours a day for three weeks.",
    "follow_up": "Weekly talk on Mondays with the manager.",
    "evaluation_date": "2026-02-16",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "message_to_general_practitioner": "Plan for graded work from week 4.",
    "contact_person_full_name": "Kari Nordmann",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}


@dataclass(frozen=True)
class CaseAt:
    """A case and who it belongs to (what the access policy decides on)."""

    case_id: str
    tenant: str
    employee_id: str
    manager_id: str
    org_unit: str = "warehouse-north"


async def open_case(
    platform: Platform,
    *,
    tenant: str = "acme",
    employee_id: str = "emp-1",
    manager_id: str = "mgr-1",
    org_unit: str = "warehouse-north",
    first_absence_day: str = "2026-01-05",
) -> CaseAt:
    body = {
        "employee_id": employee_id,
        "manager_id": manager_id,
        "org_unit": org_unit,
        "first_absence_day": first_absence_day,
    }
    response = await platform.clients["case"].post(
        "/v1/cases",
        json=body,
        headers={**platform.auth("hr", tenant=tenant), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return CaseAt(response.json()["case_id"], tenant, employee_id, manager_id, org_unit)


async def with_plan(platform: Platform, case: CaseAt) -> dict[str, Any]:
    """Create the case's follow-up plan; the plan document once the document service has it."""
    response = await platform.clients["case"].post(
        f"/v1/cases/{case.case_id}/follow-up-plan",
        json={"plan": PLAN},
        headers=platform.auth("hr", tenant=case.tenant),
    )
    assert response.status_code == 200, response.text
    return await plan_document(platform, case)


async def plan_document(platform: Platform, case: CaseAt) -> dict[str, Any]:
    async def found() -> dict[str, Any] | None:
        response = await platform.clients["document"].get(
            f"/v1/cases/{case.case_id}/documents", headers=platform.auth("hr", tenant=case.tenant)
        )
        if response.status_code != 200:
            return None
        documents: list[dict[str, Any]] = response.json()
        return next((d for d in documents if d["kind"] == "follow_up_plan"), None)

    return await eventually(found, what=f"the plan document of {case.case_id}")


async def projected(platform: Platform, case: CaseAt) -> None:
    """Wait until every consuming service knows the case (deadline, notification, summary)."""
    hr = platform.auth("hr", tenant=case.tenant)
    probes = (
        ("deadline", f"/v1/cases/{case.case_id}/timeline"),
        ("notification", f"/v1/cases/{case.case_id}/deliveries"),
        ("case", f"/v1/cases/{case.case_id}/summary"),
        ("document", f"/v1/cases/{case.case_id}/documents"),
    )
    for service, path in probes:

        async def known(service: str = service, path: str = path) -> bool:
            response = await platform.clients[service].get(path, headers=hr)
            return response.status_code == 200

        await eventually(known, what=f"{service} knows {case.case_id}")
