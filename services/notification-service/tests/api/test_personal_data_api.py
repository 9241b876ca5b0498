"""The export of what the service holds about an employee (innsyn, GDPR art. 15): content,
who may ask (HR, the employee themself), and the access record each request leaves."""

from __future__ import annotations

from typing import Any

import pytest

from naervaer.privacy.sealer import Sealer

from ..support import SmtpServer, case_1_with_a_meeting, sealed
from .conftest import Api

pytestmark = pytest.mark.integration
PATH = "/v1/employees/emp-1/personal-data"


async def ola_invited(api: Api) -> None:
    """Ola's case with a dialogue meeting, sealed as the case service publishes it; the
    invitations sent; and HR's test message to Ola."""
    await api.put("/v1/recipients/emp-1", {"email": "ola@example.com", "display_name": "Ola"})
    await api.put("/v1/recipients/mgr-1", {"email": "leder@example.com"})
    opened, meeting = case_1_with_a_meeting()
    sealer = Sealer(api.runtime.vault)
    for event_type, payload in (
        ("case.opened", opened),
        ("case.dialogue_meeting_scheduled", meeting),
    ):
        event = await sealed(sealer, event_type, payload, employee_id="emp-1", stream="case-1")
        assert "emp-1" not in str(event.data)  # only sealed
        await api.harness.on_case(event)
    test = await api.client.post(
        "/v1/test-send", json={"party_id": "emp-1", "channel": "email"}, headers=api.auth()
    )
    assert test.status_code == 202
    assert await api.harness.drain() == 3


def without_times(deliveries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            d["case_id"] or "",
            d["recipient_role"],
            d["channel"],
            d["stage"],
            d["status"],
            d["subject"],
        )
        for d in deliveries
    )


async def test_the_export_holds_the_cases_messages_and_addresses(
    api_on_both: Api, smtp: SmtpServer
) -> None:
    api = api_on_both
    await ola_invited(api)
    response = await api.get(PATH)
    assert response.status_code == 200, response.text
    export = response.json()
    assert (export["service"], export["tenant"], export["employee_id"]) == (
        "notification-service", "acme", "emp-1",
    )  # fmt: skip
    assert export["generated_at"]
    (case,) = export["cases"]
    assert (case["case_id"], case["manager_id"], case["org_unit"]) == (
        "case-1",
        "mgr-1",
        "warehouse",
    )
    (meeting,) = case["meetings"]
    assert (meeting["meeting_number"], meeting["status"]) == (1, "scheduled")
    assert meeting["participants"] == ["employee", "manager"]
    assert without_times(export["deliveries"]) == [
        ("", "employee", "email", "test", "sent", "Testmelding fra Nærvær"),
        ("case-1", "employee", "email", "invited", "sent",
         "Innkalling til dialogmøte 1, 24. mars 2026 kl. 09:00"),
        ("case-1", "manager", "email", "invited", "sent",
         "Innkalling til dialogmøte 1, 24. mars 2026 kl. 09:00"),
    ]  # fmt: skip
    assert all(d["sent_at"] and d["created_at"] for d in export["deliveries"])
    assert export["recipient"]["email"] == "ola@example.com"
    assert export["recipient"]["display_name"] == "Ola"
    assert "leder@example.com" not in response.text  # the manager's address is theirs
    own = await api.get(PATH, role="employee", sub="emp-1")
    assert own.status_code == 200
    assert own.json()["deliveries"] == export["deliveries"]


async def test_only_hr_and_the_employee_themself_may_export(api: Api) -> None:
    await ola_invited(api)
    for role, sub in (("employee", "emp-2"), ("manager", "mgr-1"), ("auditor", "a-1"),
                      ("nav", "nav-1"), ("bht", "bht-1"), ("system", "svc")):  # fmt: skip
        refused = await api.get(PATH, role=role, sub=sub)
        assert refused.status_code == 403, role
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["instance"] == "/v1/employees/{employee_id}/personal-data"
        assert "emp-1" not in refused.text  # the problem never names the employee
    assert (await api.get(PATH, role="hr", sub="emp-1")).status_code == 200
    assert (await api.client.get(PATH)).status_code == 401
    records = [r for r in api.access if r.resource == "personal-data"]
    assert {(r.operation, r.resource_id) for r in records} == {("export", "emp-1")}
    refusals = [r for r in records if r.action == "denied"]
    assert sorted(r.subject for r in refusals) == ["a-1", "bht-1", "emp-2", "mgr-1", "nav-1", "svc"]
    (allowed,) = [r for r in records if r.action != "denied"]
    assert (allowed.subject, allowed.basis_role) == ("emp-1", "hr")


async def test_nothing_held_is_an_answer_too(api: Api) -> None:
    await ola_invited(api)
    for who in ({"tenant": "globex"}, {}):  # another tenant's HR; an unknown employee below
        path = PATH if who else "/v1/employees/emp-9/personal-data"
        response = await api.get(path, **who)
        assert response.status_code == 200, response.text
        export = response.json()
        assert (export["cases"], export["deliveries"], export["recipient"]) == ([], [], None)
