"""Header injection into email: line breaks in names, addresses and subjects are refused when
stored, and what a template produces at render time is stripped: a real SMTP server receives
one Subject, no smuggled header and no extra recipient. The same for the lines of the managers'
iCalendar feeds."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .hosting import Platform, assert_clean_problem, eventually
from .receivers import Mail, SmtpReceiver

pytestmark = pytest.mark.integration

TENANT = "initech"  # a tenant of its own: its templates change here
BREAKS = ("\r\n", "\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c")
SMUGGLED = "Bcc: spy@evil.example"


def _hr(platform: Platform) -> dict[str, str]:
    return platform.auth("hr", tenant=TENANT)


@pytest.mark.parametrize("brk", BREAKS, ids=[repr(b) for b in BREAKS])
@pytest.mark.parametrize("field", ["display_name", "email"])
async def test_a_line_break_in_a_name_or_address_is_refused(
    platform: Platform, field: str, brk: str
) -> None:
    value = (
        f"Kari{brk}{SMUGGLED}" if field == "display_name" else f"kari@example.com{brk}{SMUGGLED}"
    )
    response = await platform.clients["notification"].put(
        "/v1/recipients/emp-hi", json={field: value}, headers=_hr(platform)
    )
    problem = assert_clean_problem(response, 422)
    assert "spy@evil.example" not in response.text, "the refused value is echoed back"
    assert [e["location"] for e in problem["errors"]] == [f"#/{field}"]


@pytest.mark.parametrize("brk", BREAKS, ids=[repr(b) for b in BREAKS])
async def test_a_line_break_in_a_template_subject_is_refused(platform: Platform, brk: str) -> None:
    template = {"subject": f"Hei{brk}{SMUGGLED}", "text": "t", "html": "<p>h</p>", "sms": "s"}
    response = await platform.clients["notification"].put(
        "/v1/templates/test_message/nb", json=template, headers=_hr(platform)
    )
    assert_clean_problem(response, 422)


async def test_what_a_template_renders_cannot_add_headers_or_recipients(
    platform: Platform, smtp: SmtpReceiver
) -> None:
    client = platform.clients["notification"]
    party = f"emp-{uuid.uuid4().hex[:8]}"
    address = f"{party}@example.com"
    # A display name that looks like more addresses, and a subject whose Jinja produces line
    # breaks at render time (no break in its source, so it passes the check on storing).
    recipient = {
        "display_name": 'Eve <spy@evil.example>, "Mallory" <spy2@evil.example>; x',
        "email": address,
        "channels": ["email"],
    }
    stored = await client.put(f"/v1/recipients/{party}", json=recipient, headers=_hr(platform))
    assert stored.status_code == 200, stored.text
    subject = 'Hei {{ recipient_name }}{{ "\\r\\nBcc: spy@evil.example\\r\\nX-Injected: yes" }}'
    template = {"subject": subject, "text": "Test.", "html": "<p>Test.</p>", "sms": "Test."}
    put = await client.put("/v1/templates/test_message/nb", json=template, headers=_hr(platform))
    if put.status_code != 200:  # refusing it on storing is as good as stripping it later
        assert_clean_problem(put, 422)
        return
    sent = await client.post(
        "/v1/test-send", json={"party_id": party, "channel": "email"}, headers=_hr(platform)
    )
    assert sent.status_code == 202, sent.text

    async def arrived() -> Mail | None:
        return next((m for m in smtp.mails if address in m.rcpt_tos), None)

    mail = await eventually(arrived, what="the test message at the SMTP server")
    assert mail.rcpt_tos == [address]
    assert len(mail.header_lines("Subject")) == 1
    assert mail.header_lines("Bcc") == []
    assert mail.header_lines("X-Injected") == []
    message = mail.message
    assert "\r" not in str(message["Subject"])
    assert "\n" not in str(message["Subject"])
    to: Any = message["To"]  # an AddressHeader under the default policy
    assert [a.addr_spec for a in to.addresses] == [address], str(to)


@pytest.mark.parametrize("brk", ["%0D%0A", "%0D", "%0A"], ids=["crlf", "cr", "lf"])
async def test_a_line_break_in_a_calendar_name_cannot_add_calendar_lines(
    platform: Platform, brk: str
) -> None:
    # The manager id from the path names the iCalendar feed (X-WR-CALNAME): a bare CR in it
    # used to reach the feed unescaped, which lenient calendar clients read as a new line.
    manager = f"mgr-x{brk}BEGIN:VEVENT{brk}SUMMARY:Injected{brk}END:VEVENT"
    response = await platform.clients["deadline"].get(
        f"/v1/managers/{manager}/deadlines.ics", headers=_hr(platform)
    )
    assert response.status_code == 200, response.text
    feed = response.content.decode()
    lines = feed.split("\r\n")
    assert all("\r" not in line and "\n" not in line for line in lines), repr(feed)
    assert not any(line.startswith("SUMMARY:Injected") for line in lines), feed
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 0, feed
