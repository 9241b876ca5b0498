"""Templates in nb and en, tenant overrides, escaping, and no header injection."""

from __future__ import annotations

import dataclasses
import uuid
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from notification_service.adapters.channels.base import Outgoing
from notification_service.adapters.channels.email import EmailSender
from notification_service.adapters.rendering import Renderer, TemplateInvalid, TemplateText
from notification_service.config import NotificationServiceSettings
from notification_service.domain.messages import (
    TEMPLATE_NAMES,
    MessageContext,
    message_context,
    sample_context,
)
from notification_service.domain.recipients import Recipient

RENDERER = Renderer()
OSLO = ZoneInfo("Europe/Oslo")


def context(language: str = "nb", **names: str | None) -> MessageContext:
    facts = {"kind": "dialogue_meeting_1", "due_date": "2026-05-18", "legal_basis": "aml § 4-6 (4)"}
    return message_context(
        facts,
        language,  # type: ignore[arg-type]
        zone=OSLO,
        recipient_name=names.get("recipient_name", "Kari"),
        employee_name=names.get("employee_name", "Ola Nordmann"),
    )


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
@pytest.mark.parametrize("language", ["nb", "en"])
def test_every_default_renders(name: str, language: str) -> None:
    message = RENDERER.render(RENDERER.default(name, language), sample_context(language))  # type: ignore[arg-type]
    assert message.subject
    assert message.text.strip()
    assert message.html.strip()
    assert message.sms
    assert "\n" not in message.subject


def test_reminder_in_bokmal_and_english() -> None:
    nb = RENDERER.render(RENDERER.default("obligation_approaching", "nb"), context("nb"))
    en = RENDERER.render(RENDERER.default("obligation_approaching", "en"), context("en"))
    assert nb.subject == "Påminnelse: dialogmøte 1 for Ola Nordmann innen 18. mai 2026"
    assert en.subject == "Reminder: dialogue meeting 1 for Ola Nordmann by 18 May 2026"
    assert "Hei Kari" in nb.text
    assert "Hello Kari" in en.text


def test_the_invitation_carries_the_three_core_questions() -> None:
    nb = RENDERER.render(RENDERER.default("follow_up_invitation", "nb"), context("nb"))
    en = RENDERER.render(RENDERER.default("follow_up_invitation", "en"), context("en"))
    for question in ("Hvordan er arbeidsdagen?", "Hva kan og bør endres?", "Hva blir vi enige om?"):
        assert question in nb.text
        assert question in nb.html
    for question in ("How is the working day?", "What can and should be changed?"):
        assert question in en.text


def test_meeting_time_in_local_time() -> None:
    facts = {"meeting_number": 2, "starts_at": "2026-06-01T07:30:00+00:00"}
    ctx = message_context(facts, "nb", zone=OSLO, recipient_name=None, employee_name=None)
    assert ctx.meeting_starts_at == "1. juni 2026 kl. 09:30"
    assert ctx.employee_name == "den sykmeldte"  # never an id number as a fallback


def test_html_is_escaped_and_text_is_not() -> None:
    message = RENDERER.render(
        RENDERER.default("obligation_due", "en"), context("en", employee_name="<b>Ola</b> & co")
    )
    assert "&lt;b&gt;Ola&lt;/b&gt; &amp; co" in message.html
    assert "<b>Ola</b> & co" in message.text


def test_only_name_obligation_and_date_reach_a_template() -> None:
    fields = {f.name for f in dataclasses.fields(MessageContext)}
    assert fields == {
        "language", "recipient_name", "employee_name", "obligation", "obligation_kind",
        "due_date", "legal_basis", "meeting_number", "meeting_starts_at",
    }  # fmt: skip
    # A tenant template asking for more gets an error, not data.
    with pytest.raises(TemplateInvalid, match="undefined"):
        RENDERER.check(TemplateText("{{ grade }}", "t", "h", "s"))


def test_a_tenant_template_is_checked_and_used() -> None:
    own = TemplateText(
        subject="Frist: {{ obligation }}",
        text="{{ due_date }}",
        html="<i>{{ due_date }}</i>",
        sms="x",
    )
    RENDERER.check(own)
    message = RENDERER.render(own, context("nb"))
    assert (message.subject, message.text) == ("Frist: dialogmøte 1", "18. mai 2026\n")


@pytest.mark.parametrize(
    "subject",
    ["Hei\r\nBcc: spy@evil.example", "Hei\nBcc: spy@evil.example", "Hei\rX", "Hei\u2028X"],
)
def test_a_subject_with_a_line_break_is_refused(subject: str) -> None:
    with pytest.raises(TemplateInvalid, match="one line"):
        RENDERER.check(TemplateText(subject, "t", "h", "s"))


def test_a_line_break_smuggled_in_through_a_value_is_stripped() -> None:
    own = TemplateText("Om {{ employee_name }}", "t", "h", "s")
    message = RENDERER.render(own, context("nb", employee_name="Ola\r\nBcc: spy@evil.example"))
    assert message.subject == "Om Ola Bcc: spy@evil.example"
    email = EmailSender(NotificationServiceSettings(smtp_host="127.0.0.1")).build(
        Outgoing(
            delivery_id=uuid.uuid4(), tenant="t", case_id=None, audience="employee",
            recipient_id="e", stage="s", template="x", language="nb", message=message,
            display_name="Ola", email="ola@example.com",
        )
    )  # fmt: skip
    assert email["Bcc"] is None
    assert email["Subject"] == "Om Ola Bcc: spy@evil.example"


def test_the_mail_library_refuses_a_raw_line_break_too() -> None:
    message = EmailMessage()
    with pytest.raises(ValueError, match="linefeed or carriage return"):
        message["Subject"] = "Hei\r\nBcc: spy@evil.example"


@pytest.mark.parametrize(
    "fields",
    [
        {"display_name": "Ola\r\nBcc: spy@evil.example"},
        {"email": "ola@example.com\r\nBcc: spy@evil.example"},
        {"email": "ola@example.com\n"},
        {"phone": "91234567"},
        {"language": "de"},
        {"channels": []},
    ],
)
def test_recipient_entries_are_checked(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Recipient.model_validate(fields)


def test_the_sandbox_stops_a_template_from_reaching_python() -> None:
    with pytest.raises(TemplateInvalid):
        RENDERER.check(
            TemplateText("x", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "h", "s")
        )
    with pytest.raises(TemplateInvalid):
        RENDERER.check(TemplateText("x", "{% if %}", "h", "s"))
