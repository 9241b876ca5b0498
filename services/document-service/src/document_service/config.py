"""Document service settings (env prefix ``NAERVAER_DOCUMENT_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from naervaer.settings import ServiceSettings


class DocumentServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_DOCUMENT_", extra="ignore")

    port: int = 8004
