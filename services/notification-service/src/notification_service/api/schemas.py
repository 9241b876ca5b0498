"""Request and response bodies of the notification API."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from notification_service.adapters.delivery_queries import DeliveryView
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.recipients import Recipient
from notification_service.domain.vocabulary import Channel, DeliveryStatus, Language


class AttemptOut(BaseModel):
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None = Field(description="sent, retry, failed, or abandoned (worker died).")
    error: str | None


class DeliveryOut(BaseModel):
    """One message decided on: to whom, through what, and how its attempts went."""

    id: UUID = Field(description="Also the Message-ID / X-Naervaer-Delivery-Id receivers see.")
    case_id: str | None
    subject_key: str = Field(description="The obligation or event the message is about.")
    stage: str
    audience: str
    recipient_id: str
    channel: str
    template: str
    status: DeliveryStatus
    send_after: datetime = Field(description="Not before this (quiet hours, days off, retry).")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attempt_log: list[AttemptOut]

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryOut:
        data = {name: getattr(view, name) for name in cls.model_fields if name != "attempt_log"}
        log = [AttemptOut.model_validate(a, from_attributes=True) for a in view.attempt_log]
        return cls(**data, attempt_log=log)


class DeliveriesOut(BaseModel):
    deliveries: list[DeliveryOut]


class RecipientOut(Recipient):
    party_id: str


class PolicyIn(TenantPolicy):
    """The tenant policy, plus the webhook secret (write-only; omit it to keep the current)."""

    webhook_secret: str | None = Field(
        default=None, min_length=16, max_length=256, description="HMAC-SHA256 key, write-only."
    )


class PolicyOut(TenantPolicy):
    webhook_secret_set: bool = Field(description="Whether a webhook secret is stored.")


class TemplateIn(BaseModel):
    """A tenant's own template: subject (one line), plain text, HTML and SMS, in Jinja2."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=20_000)
    html: str = Field(min_length=1, max_length=50_000)
    sms: str = Field(min_length=1, max_length=1000)


class TemplateOut(TemplateIn):
    name: str
    language: Language
    source: str = Field(description="tenant (its own version) or default.")


class TemplateListOut(BaseModel):
    templates: list[TemplateOut]


class TestSendIn(BaseModel):
    """Send the test message to one party (or "hr" for the tenant's HR mailbox)."""

    model_config = ConfigDict(extra="forbid")

    party_id: str = Field(min_length=1, max_length=128)
    channel: Channel


# Request examples for OpenAPI, one per request body.
TEST_SEND_EXAMPLE = {"party_id": "emp-1001", "channel": "email"}
RECIPIENT_EXAMPLE = {
    "display_name": "Kari Nordmann",
    "email": "kari.nordmann@example.no",
    "phone": "+4740000000",
    "language": "nb",
    "channels": ["email", "sms"],
}
POLICY_EXAMPLE = {
    "hr_email": "hr@example.no",
    "hr_channels": ["email", "webhook"],
    "webhook_url": "https://hr-suite.example.no/hooks/naervaer",
    "webhook_secret": "change-me-to-32-random-characters",
    "quiet_hours": {"start": "21:00", "end": "07:00", "audiences": ["employee"]},
    "working_day_start": "08:00",
}
TEMPLATE_EXAMPLE = {
    "subject": "Due today: {{ obligation }} for {{ employee_name }}",
    "text": "Hello {{ recipient_name }},\n\nToday, {{ due_date }}, the {{ obligation }} for "
    "{{ employee_name }} is due.\n",
    "html": "<p>Hello {{ recipient_name }},</p><p>Today, <strong>{{ due_date }}</strong>, the "
    "{{ obligation }} for {{ employee_name }} is due.</p>",
    "sms": "Due today: {{ obligation }} for {{ employee_name }}.",
}


class TestSendOut(BaseModel):
    delivery_id: UUID
    status: DeliveryStatus


class ExportedMeeting(BaseModel):
    """A dialogue meeting (dialogmøte) of one of the employee's cases."""

    model_config = ConfigDict(from_attributes=True)

    meeting_id: str
    meeting_number: int
    starts_at: datetime
    status: str
    participants: list[str] = Field(description="The roles taking part (not the others' ids).")


class ExportedCase(BaseModel):
    """One of the employee's cases as this service knows it."""

    model_config = ConfigDict(from_attributes=True)

    case_id: str
    manager_id: str = Field(description="The nearest manager (nærmeste leder).")
    org_unit: str | None
    meetings: list[ExportedMeeting]


class ExportedDelivery(BaseModel):
    """A message about one of the employee's cases, or to the employee outside a case."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    case_id: str | None
    channel: Channel
    recipient_role: str = Field(description="employee, manager, hr, union/safety representative.")
    stage: str
    template: str
    status: DeliveryStatus
    created_at: datetime
    send_after: datetime
    sent_at: datetime | None
    subject: str | None = Field(description="The subject line as sent; null until sent.")


class PersonalDataOut(BaseModel):
    """Everything the notification service holds about one employee (innsyn, GDPR art. 15)."""

    service: str
    tenant: str
    employee_id: str
    generated_at: datetime
    cases: list[ExportedCase]
    deliveries: list[ExportedDelivery]
    recipient: Recipient | None = Field(
        description="The employee's address book entry (addresses, language), if any."
    )
