"""The case aggregate: decides on commands and records what happened as events.

The case's events are the public contract of the case-events topic (``naervaer.contracts.case``):
what the aggregate records is what integrators read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel

from case_service.domain.errors import CaseAlreadyOpened
from naervaer.contracts.case import CaseOpened

BeganWith = Literal["self_certification", "sick_note"]


@dataclass
class Case:
    """One absence, from the first day of absence to return to work."""

    case_id: str
    version: int = 0
    tenant: str | None = None
    opened: CaseOpened | None = None
    status: Literal["new", "open", "closed"] = "new"
    pending: list[BaseModel] = field(default_factory=list)

    @classmethod
    def replay(cls, case_id: str, events: list[BaseModel], version: int) -> Case:
        case = cls(case_id)
        for event in events:
            case._apply(event)
        case.version = version
        return case

    def open(
        self,
        *,
        tenant: str,
        employee_id: str,
        manager_id: str,
        org_unit: str,
        first_absence_day: date,
        began_with: BeganWith,
    ) -> None:
        """Open the case on its first absence day (S)."""
        if self.status != "new":
            raise CaseAlreadyOpened(f"case {self.case_id} is already open")
        self.tenant = tenant
        self._record(
            CaseOpened(
                case_id=self.case_id,
                employee_id=employee_id,
                manager_id=manager_id,
                org_unit=org_unit,
                first_absence_day=first_absence_day,
                began_with=began_with,
            )
        )

    def _record(self, event: BaseModel) -> None:
        self._apply(event)
        self.pending.append(event)

    def _apply(self, event: BaseModel) -> None:
        if isinstance(event, CaseOpened):
            self.opened = event
            self.status = "open"
