"""Case service settings (env prefix ``NAERVAER_CASE_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class CaseServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_CASE_", extra="ignore")

    port: int = 8001
    timezone: str = Field(
        default="Europe/Oslo",
        description="The employers' calendar: which day is 'today' for what a command records.",
    )
