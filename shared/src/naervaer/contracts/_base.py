"""Common base of integration event payloads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Contract(BaseModel):
    """An integration event payload: frozen, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


CASE_ID = Field(description="The case (stream) id.")
