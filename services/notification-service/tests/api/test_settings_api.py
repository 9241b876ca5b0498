"""Recipients, the tenant policy and templates through the API: who may, and what is kept."""

from __future__ import annotations

import pytest

from .conftest import Api

pytestmark = pytest.mark.integration
OLA = {"display_name": "Ola", "email": "ola@example.com", "language": "en", "channels": ["email"]}


async def test_every_route_needs_a_token(api: Api) -> None:
    for path in ("/v1/policy", "/v1/templates", "/v1/recipients/x", "/v1/cases/c/deliveries"):
        response = await api.client.get(path)
        assert response.status_code == 401, path
        assert response.headers["content-type"] == "application/problem+json"


async def test_hr_manages_recipients_and_a_party_sees_their_own(api: Api) -> None:
    stored = await api.put("/v1/recipients/emp-1", OLA)
    assert stored.status_code == 200, stored.text
    assert stored.json() == {**OLA, "phone": None, "party_id": "emp-1"}
    assert (await api.get("/v1/recipients/emp-1")).json()["email"] == "ola@example.com"
    assert (await api.get("/v1/recipients/emp-1", role="employee", sub="emp-1")).status_code == 200
    assert (await api.get("/v1/recipients/emp-1", role="employee", sub="emp-2")).status_code == 403
    assert (await api.put("/v1/recipients/emp-1", OLA, role="manager", sub="m")).status_code == 403
    # Another tenant's HR sees nothing of it.
    assert (await api.get("/v1/recipients/emp-1", tenant="other")).status_code == 404
    assert (await api.get("/v1/recipients/nobody")).status_code == 404
    refused = [r for r in api.access if r.action == "denied"]
    assert {r.subject for r in refused} == {"emp-2", "m"}


@pytest.mark.parametrize(
    "body",
    [
        {**OLA, "display_name": "Ola\r\nBcc: spy@evil.example"},
        {**OLA, "email": "ola@example.com\r\nBcc: spy@evil.example"},
        {**OLA, "language": "sv"},
        {**OLA, "channels": ["pigeon"]},
    ],
)
async def test_bad_recipient_entries_are_refused(api: Api, body: dict[str, object]) -> None:
    response = await api.put("/v1/recipients/emp-1", body)
    assert response.status_code == 422
    assert "spy@evil" not in response.text  # values are never echoed back


async def test_a_party_id_longer_than_the_column_is_refused(api: Api) -> None:
    assert (await api.put(f"/v1/recipients/{'x' * 129}", OLA)).status_code == 422


async def test_the_policy_defaults_and_its_webhook_secret_stays_secret(api: Api) -> None:
    default = await api.get("/v1/policy")
    assert default.status_code == 200
    policy = default.json()
    assert policy["webhook_secret_set"] is False
    assert {(r["stage"], r["audience"]) for r in policy["reminders"]} == {
        ("approaching", "manager"),
        ("due", "manager"),
        ("overdue", "hr"),
        ("approaching", "employee"),
    }
    assert (policy["quiet_hours"]["start"], policy["quiet_hours"]["end"]) == (
        "21:00:00",
        "07:00:00",
    )
    assert (await api.get("/v1/policy", role="auditor", sub="a")).status_code == 200
    assert (await api.get("/v1/policy", role="manager", sub="m")).status_code == 403

    del policy["webhook_secret_set"]
    changed = {**policy, "hr_email": "hr@acme.example", "webhook_url": "https://hr.acme.example/h"}
    missing_secret = await api.put("/v1/policy", changed)
    assert missing_secret.status_code == 422
    assert missing_secret.json()["type"].endswith("webhook-secret-missing")
    secret = "a-very-long-tenant-secret"
    stored = await api.put("/v1/policy", {**changed, "webhook_secret": secret})
    assert stored.status_code == 200, stored.text
    assert stored.json()["webhook_secret_set"] is True
    assert secret not in stored.text
    kept = await api.put("/v1/policy", {**changed, "hr_language": "en"})
    assert kept.json()["webhook_secret_set"] is True
    assert kept.json()["hr_language"] == "en"
    assert (await api.put("/v1/policy", changed, role="auditor", sub="a")).status_code == 403
    assert (await api.put("/v1/policy", {**changed, "timezone": "Nowhere/Land"})).status_code == 422


async def test_templates_default_override_and_back(api: Api) -> None:
    listed = (await api.get("/v1/templates")).json()["templates"]
    assert len(listed) == 18
    assert {t["source"] for t in listed} == {"default"}
    path = "/v1/templates/obligation_due/nb"
    own = {
        "subject": "Frist i dag for {{ employee_name }}",
        "text": "{{ obligation }}: {{ due_date }}",
        "html": "<p>{{ obligation }}</p>",
        "sms": "{{ obligation }}",
    }
    stored = await api.put(path, own)
    assert stored.status_code == 200, stored.text
    assert (await api.get(path)).json() == {
        **own,
        "name": "obligation_due",
        "language": "nb",
        "source": "tenant",
    }
    assert (await api.get("/v1/templates/obligation_due/nb", tenant="other")).json()[
        "source"
    ] == "default"
    assert (await api.client.delete(path, headers=api.auth())).status_code == 204
    assert (await api.get(path)).json()["source"] == "default"
    assert (await api.client.delete(path, headers=api.auth())).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/v1/templates/obligation_due/nb", {"subject": "A\r\nBcc: x@evil.example"}, 422),
        ("/v1/templates/obligation_due/nb", {"subject": "A\nB"}, 422),
        ("/v1/templates/obligation_due/nb", {"text": "{{ diagnosis }}"}, 422),
        ("/v1/templates/obligation_due/nb", {"html": "{% for %}"}, 422),
        ("/v1/templates/obligation_due/de", {}, 422),
        ("/v1/templates/no_such_template/nb", {}, 404),
    ],
)
async def test_bad_templates_are_refused(
    api: Api, path: str, body: dict[str, str], status: int
) -> None:
    valid = {"subject": "s", "text": "t", "html": "h", "sms": "m"}
    response = await api.put(path, {**valid, **body})
    assert response.status_code == status, response.text
    assert "evil.example" not in response.text


async def test_only_hr_changes_templates(api: Api) -> None:
    valid = {"subject": "s", "text": "t", "html": "h", "sms": "m"}
    refused = await api.put("/v1/templates/obligation_due/en", valid, role="manager", sub="m")
    assert refused.status_code == 403
