"""The words of the notification service: audiences, channels, languages and stages."""

from __future__ import annotations

from typing import Literal, get_args

Audience = Literal["employee", "manager", "hr", "union_representative", "safety_representative"]
"""Who a notice is for: arbeidstaker, nærmeste leder, HR, tillitsvalgt, verneombud."""

Channel = Literal["email", "sms", "webhook"]
"""How it travels: email (SMTP), SMS (an HTTP provider) or the tenant's HR-suite webhook."""

Language = Literal["nb", "en"]
"""Norwegian bokmål or English."""

DeadlineStage = Literal["approaching", "due", "overdue"]
"""The reminder stages the deadline service announces (deadline.approaching, …)."""

MeetingStage = Literal["invited", "changed", "cancelled"]
"""What happened to a dialogue meeting (dialogmøte) the participants must hear about."""

Responsible = Literal["employer", "employee", "nav"]
"""Who owns an obligation: arbeidsgiver, arbeidstaker or NAV."""

DeliveryStatus = Literal["pending", "sending", "sent", "failed", "cancelled"]
"""pending: waiting for its time; sending: an attempt is in flight; sent; failed for good."""

AUDIENCES: tuple[Audience, ...] = get_args(Audience)
CHANNELS: tuple[Channel, ...] = get_args(Channel)
LANGUAGES: tuple[Language, ...] = get_args(Language)
HR_RECIPIENT = "hr"
"""The recipient id of the tenant's HR mailbox (its address lives in the tenant policy)."""
