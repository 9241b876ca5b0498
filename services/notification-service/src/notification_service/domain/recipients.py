"""A party's address book entry (mottaker): how and in which language to reach them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from notification_service.domain.headers import EMAIL_PATTERN, PHONE_PATTERN, has_line_break
from notification_service.domain.vocabulary import Channel, Language


class Recipient(BaseModel):
    """Where one party (employee, manager, representative) of a tenant gets messages.

    ``channels`` is the preference: every listed channel gets its own message; ``webhook``
    in it means "tell me through the HR suite" (the tenant's webhook, with my party id).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    display_name: str | None = Field(
        default=None, max_length=200, description="The name messages use; never an id number."
    )
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL_PATTERN)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN, description="E.164.")
    language: Language = "nb"
    channels: frozenset[Channel] = Field(default=frozenset({"email"}), min_length=1)

    @field_validator("display_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and has_line_break(value):
            raise ValueError("display_name must not contain line breaks")
        return value
