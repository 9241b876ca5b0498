"""Commands on the case's life: open, reassign, return to work, close, reopen, waive."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from case_service.app.commands.base import CaseCommand, Command, id_field, text_field
from case_service.domain.case import Case
from case_service.domain.lifecycle import CloseReason
from naervaer.auth.principal import Role
from naervaer.contracts.case import OBLIGATION_KINDS, BeganWith


class OpenCase(Command):
    """Open a case (sykefraværstilfelle) on the first day of absence."""

    employee_id: str = id_field("The employee (arbeidstaker), as the tenant identifies them.")
    manager_id: str = id_field("The nearest manager (nærmeste leder).")
    org_unit: str = Field(min_length=1, max_length=128, description="The organisational unit.")
    first_absence_day: date = Field(description="S: the first day of absence.")
    began_with: BeganWith = Field(
        default="sick_note", description="How the absence began: egenmelding or sykmelding."
    )


class ReassignManager(CaseCommand):
    """A new nearest manager takes over the case; the whole history follows it."""

    action = "reassign_manager"
    manager_id: str = id_field("The new nearest manager.")

    def execute(self, case: Case, today: date) -> None:
        case.reassign_manager(manager_id=self.manager_id, today=today)


class ReturnToWork(CaseCommand):
    """The employee is back at work (friskmeldt), fully or partly."""

    action = "return_to_work"
    returned_on: date
    extent: Literal["full", "partial"]
    working_percent: int = Field(
        ge=1, le=100, description="Share of normal working time resumed (100 when full)."
    )

    def execute(self, case: Case, today: date) -> None:
        case.return_to_work(
            returned_on=self.returned_on,
            extent=self.extent,
            working_percent=self.working_percent,
        )


class CloseCase(CaseCommand):
    """Close the case (tilfellet avsluttet)."""

    action = "close_case"
    closed_on: date
    reason: CloseReason

    def execute(self, case: Case, today: date) -> None:
        case.close(closed_on=self.closed_on, reason=self.reason)


class ReopenCase(CaseCommand):
    """A new absence within 16 days of the last one continues the case (same S)."""

    action = "reopen_case"
    absence_start: date = Field(description="First day of the new absence.")
    began_with: BeganWith

    def execute(self, case: Case, today: date) -> None:
        case.reopen(absence_start=self.absence_start, began_with=self.began_with)


class WaiveObligation(CaseCommand):
    """HR waives an obligation of the deadline timeline, with its reason."""

    action = "waive_obligation"
    only_roles: ClassVar[frozenset[Role] | None] = frozenset({Role.HR, Role.SYSTEM})
    obligation: str = Field(
        min_length=1,
        max_length=64,
        description="The obligation kind: " + ", ".join(OBLIGATION_KINDS) + ".",
    )
    reason: str = text_field("Why the obligation does not apply (e.g. obviously unnecessary).")

    def execute(self, case: Case, today: date) -> None:
        case.waive_obligation(obligation=self.obligation, reason=self.reason, today=today)
