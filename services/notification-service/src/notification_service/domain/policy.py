"""The tenant's notification policy (varslingspolicy): who hears which stage, and when.

Every value is the tenant's to change (PUT /v1/policy); ``TenantPolicy()`` is the documented
default (see the POLICY section of the service README).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    WithJsonSchema,
    field_validator,
)

from notification_service.domain.headers import EMAIL_PATTERN
from notification_service.domain.vocabulary import (
    Audience,
    Channel,
    DeadlineStage,
    Language,
    Responsible,
)


def _local(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time in the tenant's time zone, without an offset")
    return value


LocalTime = Annotated[
    time,
    AfterValidator(_local),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
            "description": "Local time in the tenant's time zone (HH:MM or HH:MM:SS).",
            "examples": ["21:00"],
        }
    ),
]
"""A wall-clock time of the tenant's zone. OpenAPI's ``format: time`` would promise an RFC 3339
time with an offset, which these are not (found by schemathesis in tests/hostile); an offset
is refused, since comparing it with the local clock fails."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReminderRule(_Model):
    """One line of "who hears what": a deadline stage, for some obligations, to one audience."""

    stage: DeadlineStage
    audience: Audience
    template: str = Field(min_length=1, max_length=64)
    kinds: frozenset[str] | None = Field(
        default=None, description="Obligation kinds it covers; none means every kind."
    )
    responsible: frozenset[Responsible] | None = Field(
        default=None, description="Only obligations owned by these; none means any owner."
    )

    def matches(self, stage: str, kind: str, responsible: str) -> bool:
        return (
            stage == self.stage
            and (self.kinds is None or kind in self.kinds)
            and (self.responsible is None or responsible in self.responsible)
        )


EMPLOYER = frozenset({"employer"})
DEFAULT_REMINDERS: tuple[ReminderRule, ...] = (
    # The nearest manager (nærmeste leder) owns the employer's duties: before and on the day.
    ReminderRule(
        stage="approaching",
        audience="manager",
        template="obligation_approaching",
        responsible=EMPLOYER,
    ),
    ReminderRule(stage="due", audience="manager", template="obligation_due", responsible=EMPLOYER),
    # A missed employer duty escalates to HR.
    ReminderRule(
        stage="overdue", audience="hr", template="obligation_overdue", responsible=EMPLOYER
    ),
    # The employee is invited to the follow-up conversation with the three core questions
    # when the follow-up plan (oppfølgingsplan) approaches: the plan is made in that talk.
    ReminderRule(
        stage="approaching",
        audience="employee",
        template="follow_up_invitation",
        kinds=frozenset({"follow_up_plan"}),
    ),
    # … and told ahead of the activity requirement (aktivitetsplikt) at 8 weeks.
    ReminderRule(
        stage="approaching",
        audience="employee",
        template="activity_requirement_notice",
        kinds=frozenset({"activity_requirement"}),
    ),
)


class QuietHours(_Model):
    """No email or SMS to these audiences between ``start`` and ``end`` (local time)."""

    start: LocalTime = time(21, 0)
    end: LocalTime = time(7, 0)
    audiences: frozenset[Audience] = frozenset({"employee"})
    channels: frozenset[Channel] = frozenset({"email", "sms"})

    def applies(self, audience: str, channel: str) -> bool:
        return audience in self.audiences and channel in self.channels


class TenantPolicy(_Model):
    """A tenant's notification policy; the defaults are what a tenant gets until it says else."""

    reminders: tuple[ReminderRule, ...] = DEFAULT_REMINDERS
    meeting_audiences: frozenset[Audience] = Field(
        default=frozenset(
            {"employee", "manager", "hr", "union_representative", "safety_representative"}
        ),
        description="Meeting participants told of invitations, changes and cancellations; "
        "the employee always is, the others only when they take part.",
    )
    hr_email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    hr_language: Language = "nb"
    hr_channels: frozenset[Channel] = Field(
        default=frozenset({"email", "webhook"}),
        min_length=1,
        description="HR's channels; webhook is used only when webhook_url is set.",
    )
    webhook_url: HttpUrl | None = Field(
        default=None,
        description="The HR suite's webhook; its signing secret is kept apart and never shown.",
    )
    default_channels: frozenset[Channel] = Field(
        default=frozenset({"email"}),
        min_length=1,
        description="For a party with no recipient entry yet.",
    )
    default_language: Language = "nb"
    timezone: str = "Europe/Oslo"
    quiet_hours: QuietHours = QuietHours()
    working_day_start: LocalTime = time(8, 0)
    shift_reminders_off_holidays: bool = Field(
        default=True,
        description="Reminders due on a weekend or a Norwegian public holiday wait for the "
        "next working day at working_day_start.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def reminder_rules(self, stage: str, kind: str, responsible: str) -> list[ReminderRule]:
        """The rules that fire for one deadline stage of one obligation."""
        return [rule for rule in self.reminders if rule.matches(stage, kind, responsible)]
