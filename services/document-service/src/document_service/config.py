"""Document service settings (env prefix ``NAERVAER_DOCUMENT_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from document_service.domain.attachments import DEFAULT_MAX_BYTES
from naervaer.settings import ServiceSettings


class DocumentServiceSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_DOCUMENT_", extra="ignore")

    port: int = Field(
        default=8004, ge=0, le=65535, description="HTTP port of the document service."
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="PEM file of the Ed25519 key that signs the audit trail (required in "
        "production). Unset in development: a key created once in the data folder.",
    )
    max_attachment_bytes: int = Field(
        default=DEFAULT_MAX_BYTES, ge=1, description="Largest attachment accepted (bytes)."
    )
    access_events: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Record access records from the access-events topic in the audit trail: "
        "auto = when an installed service publishes that topic; on = always (Kafka, with "
        "producers outside this installation); off = never.",
    )
