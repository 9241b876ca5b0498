"""No secret and no personal data in the logs, even at DEBUG.

A short flow with every secret in use: bearer tokens of three roles, the SMTP password (the
server demands AUTH), the tenant's webhook secret (every webhook is signed with it), the dev
signing key (it signs the tokens). A case is opened and read, an employee's name and address
are stored, and a message goes out by email and by webhook. Every log line is captured (JSON,
one object per line) and searched for each secret and each personal value.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from naervaer.auth.devkeys import DEV_KEY_FILE
from naervaer.observability.logging import configure_logging
from notification_service.domain.signature import SIGNATURE_HEADER, verify

from .conftest import SMTP_PASSWORD, SMTP_USER, WEBHOOK_SECRET
from .hosting import Platform, eventually
from .receivers import Hook, Mail, SmtpReceiver, WebhookReceiver
from .world import open_case

pytestmark = pytest.mark.integration

TENANT = "hooli"  # its policy gets a webhook: a tenant of its own
EMPLOYEE_NAME = "Gunnhild Hemmelig-Solberg"
EMPLOYEE_EMAIL = "gunnhild.hemmelig@example.com"
TEST_SERVER_LOGGERS = ("mail.log",)  # aiosmtpd: the test's own SMTP server, not a service
TEST_CLIENT_HOSTS = tuple(
    f"http://{key}.test/" for key in ("case", "deadline", "notification", "document")
)
"""httpx logs each request of the test's own in-process clients: those lines are not the
services' (the services' own httpx lines, e.g. webhooks, are kept)."""


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Logging as the services run it, at DEBUG; restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(level="DEBUG", fmt="json")
    capsys.readouterr()
    try:
        yield capsys
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


async def test_no_secret_or_personal_value_reaches_a_log_line(
    platform: Platform,
    smtp: SmtpReceiver,
    webhook: WebhookReceiver,
    json_logs: pytest.CaptureFixture[str],
) -> None:
    employee = f"emp-{uuid.uuid4().hex[:8]}"
    tokens = {role: platform.token(role, sub=f"{role}-s", tenant=TENANT) for role in ("hr", "nav")}
    tokens["employee"] = platform.token("employee", sub=employee, tenant=TENANT)
    mail, hook = await _flow(platform, smtp, webhook, employee, tokens)
    assert SMTP_USER in smtp.logins, "the SMTP password was never used"
    verify(WEBHOOK_SECRET, hook.body, hook.headers[SIGNATURE_HEADER], now=time.time())
    assert mail.rcpt_tos == [EMPLOYEE_EMAIL]

    lines = _service_lines(json_logs.readouterr())
    assert len(lines) > 20, "too few log lines to prove anything"
    secrets = {
        **{f"{role} token": token for role, token in tokens.items()},
        **{f"{role} token signature": t.rsplit(".", 1)[1] for role, t in tokens.items()},
        "SMTP password": SMTP_PASSWORD,
        "webhook secret": WEBHOOK_SECRET,
        **_key_lines(platform),
        "employee name": EMPLOYEE_NAME,
        "employee name (JSON-escaped)": json.dumps(EMPLOYEE_NAME)[1:-1],
        "employee email": EMPLOYEE_EMAIL,
    }
    leaks = {
        what: [line[:300] for line in lines if value in line]
        for what, value in secrets.items()
        if any(value in line for line in lines)
    }
    assert not leaks, json.dumps(leaks, indent=2, ensure_ascii=False)


async def _flow(
    platform: Platform,
    smtp: SmtpReceiver,
    webhook: WebhookReceiver,
    employee: str,
    tokens: dict[str, str],
) -> tuple[Mail, Hook]:
    hr = {"Authorization": f"Bearer {tokens['hr']}"}
    notification = platform.clients["notification"]
    policy = {"webhook_url": webhook.url, "webhook_secret": WEBHOOK_SECRET, "hr_email": "hr@x.no"}
    assert (await notification.put("/v1/policy", json=policy, headers=hr)).status_code == 200
    person = {"display_name": EMPLOYEE_NAME, "email": EMPLOYEE_EMAIL, "channels": ["email"]}
    stored = await notification.put(f"/v1/recipients/{employee}", json=person, headers=hr)
    assert stored.status_code == 200, stored.text
    case = await open_case(platform, tenant=TENANT, employee_id=employee, manager_id="mgr-s")
    for role in ("hr", "nav", "employee"):
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        read = await platform.clients["case"].get(f"/v1/cases/{case.case_id}", headers=headers)
        assert read.status_code == 200, read.text
    await _refused_attempts(platform, tokens["hr"], case.case_id)
    for channel in ("email", "webhook"):
        sent = await notification.post(
            "/v1/test-send", json={"party_id": employee, "channel": channel}, headers=hr
        )
        assert sent.status_code == 202, sent.text

    async def mailed() -> Mail | None:
        return next((m for m in smtp.mails if EMPLOYEE_EMAIL in m.rcpt_tos), None)

    async def hooked() -> Hook | None:
        return next((h for h in webhook.hooks if employee.encode() in h.body), None)

    return await eventually(mailed, what="the email"), await eventually(hooked, what="the hook")


async def _refused_attempts(platform: Platform, token: str, case_id: str) -> None:
    """What a careless or hostile client sends: tokens where they do not belong."""
    case = platform.clients["case"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    refused = await case.get(
        f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {tampered}"}
    )
    assert refused.status_code == 401
    in_query = await case.get(f"/v1/cases/{case_id}", params={"access_token": token})
    assert in_query.status_code == 401
    odd_scheme = await case.get(f"/v1/cases/{case_id}", headers={"Authorization": f"Token {token}"})
    assert odd_scheme.status_code == 401


def _service_lines(captured: Any) -> list[str]:
    """Every captured log line of the services: each must be one JSON object."""
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    kept = []
    for line in lines:
        record = json.loads(line)
        assert isinstance(record, dict), line
        if str(record.get("logger", "")).startswith(TEST_SERVER_LOGGERS):
            continue
        if record.get("logger") == "httpx" and _from_test_client(str(record.get("event"))):
            continue
        kept.append(line)
    return kept


def _from_test_client(event: str) -> bool:
    return any(f" {host}" in event for host in TEST_CLIENT_HOSTS)


def _key_lines(platform: Platform) -> dict[str, str]:
    """The dev signing key's PEM body, line by line (any one of them is a leak)."""
    pem = (platform.settings.data_dir / DEV_KEY_FILE).read_text()
    body = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    assert body
    return {f"signing key line {n}": line for n, line in enumerate(body, start=1)}
