"""Response bodies of the case API (request bodies are the commands, ``app.commands``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from naervaer.contracts.tenant import QuotaBreach, SelfCertificationQuota


class CaseVersionResponse(BaseModel):
    """The case a command changed and the version it reached (also the ``ETag``)."""

    case_id: str
    version: int


class EmployeeVersionResponse(BaseModel):
    """The employee record a command changed and the version it reached (the ``ETag``)."""

    employee_id: str
    version: int


class CasePolicyResponse(BaseModel):
    """The tenant's case policy; version 0 means the defaults (never set)."""

    tenant: str
    version: int
    self_certification_quota: SelfCertificationQuota
    quota_breach: QuotaBreach
    max_days_each: int = Field(description="Calendar days a self-certification may cover.")
    max_times: int | None = Field(description="Self-certifications allowed in 12 months.")
    max_days_total: int | None = Field(description="Self-certified days allowed in 12 months.")


class CaseResponse(BaseModel):
    case_id: str
    version: int
    tenant: str
    status: str
    employee_id: str
    manager_id: str = Field(description="The current nearest manager.")
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
