"""Notification service settings (env prefix ``NAERVAER_NOTIFICATION_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class NotificationServiceSettings(ServiceSettings):
    """SMTP, SMS provider, webhook and delivery-worker settings.

    The tenant-level choices (who hears what, quiet hours, HR address, webhook URL and
    secret) are not here: they are each tenant's policy (``/v1/policy``).
    """

    model_config = SettingsConfigDict(env_prefix="NAERVAER_NOTIFICATION_", extra="ignore")

    port: int = Field(
        default=8003, ge=0, le=65535, description="HTTP port of the notification service."
    )
    smtp_host: str | None = Field(
        default=None, description="SMTP relay; unset: email deliveries fail as not configured."
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="STARTTLS on a plain port, implicit TLS (465), or none."
    )
    smtp_username: str | None = Field(default=None, description="SMTP user (AUTH).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_validate_certs: bool = Field(
        default=True, description="Verify the relay's TLS certificate."
    )
    smtp_timeout_s: float = Field(default=30.0, gt=0, description="SMTP connect/command timeout.")
    smtp_from: str = Field(
        default="Nærvær <noreply@naervaer.invalid>", description="From address of the emails."
    )
    sms_url: str | None = Field(
        default=None, description="HTTP JSON SMS provider endpoint; unset: SMS fails as such."
    )
    sms_token: SecretStr | None = Field(default=None, description="Bearer token of the provider.")
    sms_sender: str = Field(default="Naervaer", max_length=11, description="SMS sender name.")
    http_timeout_s: float = Field(default=10.0, gt=0, description="Webhook and SMS requests.")
    worker_poll_interval_s: float = Field(
        default=1.0, gt=0, description="How often the delivery worker looks for due deliveries."
    )
    worker_lease_s: float = Field(
        default=300.0,
        gt=0,
        description="How long a claimed delivery stays ours; a worker that died mid-send "
        "leaves it 'sending', and after the lease another attempt takes it over.",
    )
    retry_base_s: float = Field(
        default=30.0,
        gt=0,
        description="First retry delay of a failed delivery (doubles, jittered).",
    )
    retry_cap_s: float = Field(default=3600.0, gt=0, description="Longest retry delay.")
    max_attempts: int = Field(
        default=8, ge=1, description="Attempts before a delivery is recorded as failed."
    )
