"""Case service settings (env prefix ``NAERVAER_CASE_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class CaseServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_CASE_", extra="ignore")

    port: int = 8001
