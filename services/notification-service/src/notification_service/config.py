"""Notification service settings (env prefix ``NAERVAER_NOTIFICATION_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class NotificationServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_NOTIFICATION_", extra="ignore")

    port: int = 8003
