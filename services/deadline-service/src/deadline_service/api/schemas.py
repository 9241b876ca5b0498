"""Request and response bodies of the deadline API."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from deadline_service.app.queries import Entry
from deadline_service.domain.kinds import ObligationKind, Responsible, Status


class ObligationOut(BaseModel):
    """One obligation of a case's timeline."""

    kind: ObligationKind
    due_date: date | None = Field(description="None while the obligation has no date yet.")
    status: Status
    responsible: Responsible
    legal_basis: str = Field(examples=["aml § 4-6 (3)"])
    fulfilled_by: str | None = Field(
        description="Id of the event that fulfilled or waived it (also for automatic ones)."
    )

    @classmethod
    def of(cls, entry: Entry) -> ObligationOut:
        o = entry.obligation
        return cls(
            kind=o.kind,
            due_date=o.due_date,
            status=entry.status,
            responsible=o.responsible,
            legal_basis=o.legal_basis,
            fulfilled_by=o.fulfilled_by,
        )


class TimelineOut(BaseModel):
    case_id: str
    obligations: list[ObligationOut]


class WorklistItem(ObligationOut):
    """An obligation on the worklist, with the case it belongs to."""

    case_id: str
    manager_id: str
    employee_id: str
    org_unit: str

    @classmethod
    def of(cls, entry: Entry) -> WorklistItem:
        return cls(
            **ObligationOut.of(entry).model_dump(),
            case_id=entry.case_id,
            manager_id=entry.manager_id,
            employee_id=entry.employee_id,
            org_unit=entry.org_unit,
        )


class WorklistOut(BaseModel):
    today: date = Field(description="The day the statuses were derived for.")
    obligations: list[WorklistItem]


class ClockIn(BaseModel):
    now: AwareDatetime = Field(examples=["2026-03-02T09:00:00+01:00"])


class ClockOut(BaseModel):
    now: datetime
