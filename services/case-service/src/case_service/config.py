"""Case service settings (env prefix ``NAERVAER_CASE_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class CaseServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_CASE_", extra="ignore")

    port: int = Field(default=8001, ge=0, le=65535, description="HTTP port of the case service.")
    timezone: str = Field(
        default="Europe/Oslo",
        description="The employers' calendar: which day is 'today' for what a command records.",
    )
    erasure_sweep_interval_s: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds between erasure sweeps (personal data past the tenant's retention "
        "period, no legal hold); 0 turns the periodic sweep off.",
    )
