"""Response bodies of the privacy API: retention, legal hold, erasure and the export."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from case_service.api.read_schemas import CaseSummaryResponse
from case_service.app.erasure import ErasureDone
from case_service.app.export import ExportedEvent, PersonalDataExport
from case_service.app.privacy import EmployeeRetention
from case_service.domain.employee import EmployeeRecord
from case_service.domain.retention import RetentionPolicy


class RetentionPolicyResponse(BaseModel):
    """The tenant's retention period (oppbevaringstid); ``changed_on`` null: the default."""

    months_after_close: int = Field(
        description="Months after an employee's last case closed before their data is erased."
    )
    changed_on: date | None

    @classmethod
    def of(cls, policy: RetentionPolicy) -> RetentionPolicyResponse:
        return cls(months_after_close=policy.months_after_close, changed_on=policy.changed_on)


class LegalHoldResponse(BaseModel):
    employee_id: str
    legal_hold: bool = Field(description="Whether a legal hold (rettslig hold) now stands.")
    version: int = Field(description="The employee record's version (also the ETag).")

    @classmethod
    def of(cls, record: EmployeeRecord) -> LegalHoldResponse:
        return cls(
            employee_id=record.employee_id, legal_hold=record.legal_hold, version=record.version
        )


class ClosedCaseOut(BaseModel):
    case_id: str
    closed_on: date


class RetentionResponse(BaseModel):
    """Where the employee stands: erasable from a date once every case is closed."""

    open_cases: list[str] = Field(description="Ids of the employee's open cases.")
    closed_cases: list[ClosedCaseOut]
    last_closed_on: date | None
    erasable_from: date | None = Field(
        description="Last close + the tenant's retention months; null while a case is open."
    )
    months_after_close: int = Field(description="The tenant's retention period applied.")
    legal_hold: bool
    erased: bool = Field(
        description="The employee's personal data was erased before (cases listed are newer)."
    )

    @classmethod
    def of(cls, retention: EmployeeRetention) -> RetentionResponse:
        status = retention.status
        return cls(
            open_cases=list(status.open_cases),
            closed_cases=[
                ClosedCaseOut(case_id=c.case_id, closed_on=c.closed_on)
                for c in status.closed_cases
                if c.closed_on is not None
            ],
            last_closed_on=status.last_closed_on,
            erasable_from=status.erasable_from,
            months_after_close=retention.months_after_close,
            legal_hold=retention.legal_hold,
            erased=retention.erased,
        )


class ErasureResponse(BaseModel):
    key_id: str = Field(description="The destroyed key (pd1.<key id>.… in sealed values).")
    case_ids: list[str]
    erased_on: date

    @classmethod
    def of(cls, done: ErasureDone) -> ErasureResponse:
        return cls(key_id=done.key_id, case_ids=list(done.case_ids), erased_on=done.erased_on)


class SweptErasure(BaseModel):
    key_id: str
    case_ids: list[str]


class SweepResponse(BaseModel):
    erased: list[SweptErasure] = Field(description="Every erasure the sweep made.")


class ExportedEventOut(BaseModel):
    type: str
    time: datetime
    streamversion: int
    data: dict[str, Any] = Field(description="The payload, decrypted; erased values `[erased]`.")

    @classmethod
    def of(cls, event: ExportedEvent) -> ExportedEventOut:
        return cls(
            type=event.type, time=event.time, streamversion=event.streamversion, data=event.data
        )


class ExportedCaseOut(BaseModel):
    summary: CaseSummaryResponse
    events: list[ExportedEventOut] = Field(description="Every event of the case, oldest first.")


class PersonalDataResponse(BaseModel):
    """Everything the case service holds about the employee (GDPR art. 15), decrypted."""

    service: Literal["case-service"] = "case-service"
    tenant: str
    employee_id: str
    generated_at: datetime
    cases: list[ExportedCaseOut]
    employee_events: list[ExportedEventOut] = Field(
        description="The employee's own stream: self-certification, legal holds, erasures."
    )
    legal_hold: bool
    retention: RetentionResponse

    @classmethod
    def of(cls, export: PersonalDataExport, today: date) -> PersonalDataResponse:
        return cls(
            tenant=export.tenant,
            employee_id=export.employee_id,
            generated_at=export.generated_at,
            cases=[
                ExportedCaseOut(
                    summary=CaseSummaryResponse.of(case.summary, today),
                    events=[ExportedEventOut.of(e) for e in case.events],
                )
                for case in export.cases
            ],
            employee_events=[ExportedEventOut.of(e) for e in export.employee_events],
            legal_hold=export.retention.legal_hold,
            retention=RetentionResponse.of(export.retention),
        )
