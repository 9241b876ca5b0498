"""Deadline service settings (env prefix ``NAERVAER_DEADLINE_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class DeadlineServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_DEADLINE_", extra="ignore")

    port: int = 8002
