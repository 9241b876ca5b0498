"""Request and response bodies of the case API (the contract HR suites call)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_ID = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")


class OpenCaseRequest(BaseModel):
    """Open a case (sykefraværstilfelle) on the first day of absence."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "employee_id": "emp-1001",
                    "manager_id": "mgr-17",
                    "org_unit": "warehouse-north",
                    "first_absence_day": "2026-01-05",
                    "began_with": "sick_note",
                }
            ]
        },
    )

    employee_id: str = _ID
    manager_id: str = _ID
    org_unit: str = Field(min_length=1, max_length=128)
    first_absence_day: date
    began_with: Literal["self_certification", "sick_note"] = "sick_note"


class CaseVersionResponse(BaseModel):
    case_id: str
    version: int


class CaseResponse(BaseModel):
    case_id: str
    version: int
    tenant: str
    status: str
    employee_id: str
    manager_id: str
    org_unit: str
    first_absence_day: date


class EventResponse(BaseModel):
    """One event of the case's history, as its CloudEvents envelope."""

    id: str
    type: str
    time: str
    streamversion: int
    data: dict[str, Any]


class EventsResponse(BaseModel):
    case_id: str
    events: list[EventResponse]
