"""Deliveries through the API: by case (the case-access policy), by recipient, test sends."""

from __future__ import annotations

import pytest

from ..support import SmtpServer, case_1_with_a_meeting, envelope
from .conftest import Api

pytestmark = pytest.mark.integration


async def meeting_for_case_1(api: Api) -> None:
    await api.put("/v1/recipients/emp-1", {"email": "ola@example.com", "display_name": "Ola"})
    opened, meeting = case_1_with_a_meeting()
    await api.harness.on_case(envelope("case.opened", opened, stream="case-1"))
    await api.harness.on_case(envelope("case.dialogue_meeting_scheduled", meeting, stream="case-1"))
    assert await api.harness.drain() == 2


async def test_case_deliveries_follow_the_case_access_policy(api: Api) -> None:
    await meeting_for_case_1(api)
    path = "/v1/cases/case-1/deliveries"
    as_manager = await api.get(path, role="manager", sub="mgr-1")
    assert as_manager.status_code == 200, as_manager.text
    by_recipient = {d["recipient_id"]: d for d in as_manager.json()["deliveries"]}
    assert by_recipient["emp-1"]["status"] == "sent"
    assert by_recipient["emp-1"]["attempt_log"][0]["outcome"] == "sent"
    manager = by_recipient["mgr-1"]  # no address registered: failed, with the reason
    assert (manager["status"], manager["last_error"]) == ("failed", "no email address for mgr-1")
    assert (await api.get(path, role="employee", sub="emp-1")).status_code == 200
    assert (await api.get(path)).status_code == 200  # HR of the tenant
    assert (await api.get(path, role="manager", sub="mgr-2")).status_code == 403
    assert (await api.get(path, tenant="other")).status_code == 404  # reveals nothing
    assert (await api.get("/v1/cases/case-9/deliveries")).status_code == 404
    reads = [r for r in api.access if r.resource == "deliveries" and r.action == "read"]
    assert {r.basis_role for r in reads} == {"manager", "employee", "hr"}


async def test_a_party_sees_their_own_deliveries(api: Api) -> None:
    await meeting_for_case_1(api)
    mine = await api.get("/v1/recipients/emp-1/deliveries", role="employee", sub="emp-1")
    assert [d["template"] for d in mine.json()["deliveries"]] == ["meeting_invitation"]
    other = await api.get("/v1/recipients/emp-1/deliveries", role="employee", sub="emp-2")
    assert other.status_code == 403
    foreign = await api.get("/v1/recipients/emp-1/deliveries", tenant="other")
    assert foreign.json()["deliveries"] == []


async def test_hr_sends_a_test_message(api: Api, smtp: SmtpServer) -> None:
    await api.put("/v1/recipients/mgr-1", {"email": "leder@example.com", "language": "en"})
    body = {"party_id": "mgr-1", "channel": "email"}
    refused = await api.client.post("/v1/test-send", json=body, headers=api.auth("manager", "m"))
    assert refused.status_code == 403
    accepted = await api.client.post("/v1/test-send", json=body, headers=api.auth())
    assert accepted.status_code == 202, accepted.text
    assert await api.harness.drain() == 1
    delivery = await api.get(accepted.headers["Location"])
    assert delivery.json()["status"] == "sent"
    (mail,) = smtp.messages
    assert (mail["To"], mail["Subject"]) == ("leder@example.com", "Test message from Nærvær")
    assert (await api.get(accepted.headers["Location"], tenant="other")).status_code == 404
