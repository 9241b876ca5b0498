"""Case events (sykefraværstilfelle) as published on the case-events topic."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from naervaer.registry import EventRegistry


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseOpened(_Contract):
    """A sick-leave case was opened (sykefraværstilfelle startet) on its first absence day."""

    case_id: str = Field(description="The case (stream) id.")
    employee_id: str = Field(
        description="The employee (arbeidstaker), as the tenant identifies them."
    )
    manager_id: str = Field(description="The nearest manager (nærmeste leder).")
    org_unit: str = Field(description="The organisational unit the employee belongs to.")
    first_absence_day: date = Field(description="S: the first day of absence of the case.")
    began_with: Literal["self_certification", "sick_note"] = Field(
        description="How the absence began: egenmelding or sykmelding."
    )


def register_case_events(registry: EventRegistry) -> None:
    registry.register("case.opened", CaseOpened)
