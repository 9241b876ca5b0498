"""Request and response bodies of the deadline API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from deadline_service.app.personal_data import CaseData, EmployeeData, Notice
from deadline_service.app.queries import Entry
from deadline_service.domain.kinds import ObligationKind, Responsible, Stage, Status


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


class NoticeOut(BaseModel):
    """One deadline notice (fristvarsel) of a case: pending, sent, or withheld after erasure."""

    kind: ObligationKind
    stage: Stage
    due_date: date
    fire_on: date = Field(description="The day it is (or was) to be sent.")
    status: Literal["pending", "sent", "withheld"]
    sent_at: datetime | None = Field(description="When it was sent (or withheld).")
    event_id: UUID | None = Field(description="The deadline event that carried it, once sent.")

    @classmethod
    def of(cls, notice: Notice) -> NoticeOut:
        return cls(
            kind=notice.kind,
            stage=notice.stage,
            due_date=notice.due_date,
            fire_on=notice.fire_on,
            status=notice.status,
            sent_at=notice.fired_at,
            event_id=notice.event_id,
        )


class CaseDataOut(BaseModel):
    """What is held about one of the employee's cases."""

    case_id: str
    manager_id: str
    org_unit: str
    case_start: date | None = Field(description="The first day of absence (S), once known.")
    last_sick_day: date | None
    sick_pay_days: list[date] = Field(description="Known sick-pay weekdays (ftrl § 8-12).")
    obligations: list[ObligationOut]
    notices: list[NoticeOut]

    @classmethod
    def of(cls, data: CaseData) -> CaseDataOut:
        case = data.case
        return cls(
            case_id=case.case_id,
            manager_id=case.manager_id,
            org_unit=case.org_unit,
            case_start=case.case_start,
            last_sick_day=case.last_sick_day,
            sick_pay_days=sorted(case.sick_pay_days),
            obligations=[ObligationOut.of(entry) for entry in data.timeline],
            notices=[NoticeOut.of(notice) for notice in data.notices],
        )


class PersonalDataOut(BaseModel):
    """Everything the deadline service holds about one employee (innsyn, GDPR art. 15)."""

    service: Literal["deadline-service"] = "deadline-service"
    tenant: str
    employee_id: str
    generated_at: datetime
    today: date = Field(description="The day the obligations' statuses were derived for.")
    cases: list[CaseDataOut] = Field(description="Empty when nothing is held.")

    @classmethod
    def of(cls, data: EmployeeData) -> PersonalDataOut:
        return cls(
            tenant=data.tenant,
            employee_id=data.employee_id,
            generated_at=data.generated_at,
            today=data.today,
            cases=[CaseDataOut.of(case) for case in data.cases],
        )
