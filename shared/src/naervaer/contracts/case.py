"""Case lifecycle and sick leave (sykefravær) events, as published on the case-events topic."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from naervaer.contracts._base import CASE_ID, Contract
from naervaer.privacy.personal import PersonalStr
from naervaer.registry import EventRegistry

BeganWith = Literal["self_certification", "sick_note"]
SickNoteKind = Literal["ordinary", "graded", "pending"]
OBLIGATION_KINDS = (
    "employer_period_end",
    "follow_up_plan",
    "plan_to_doctor",
    "dialogue_meeting_1",
    "activity_requirement",
    "meeting_need_query",
    "revised_plan_to_nav",
    "dialogue_meeting_2",
    "dialogue_meeting_3",
    "week_39_notice",
    "aap_application",
    "max_date",
    "employment_review",
)
"""The obligation kinds of the deadline timeline (stable identifiers, part of the contract)."""


class CaseOpened(Contract):
    """A sick-leave case was opened (sykefraværstilfelle startet) on its first absence day."""

    case_id: str = CASE_ID
    employee_id: PersonalStr = Field(
        description="The employee (arbeidstaker), as the tenant identifies them."
    )
    manager_id: PersonalStr = Field(description="The nearest manager (nærmeste leder).")
    org_unit: str = Field(description="The organisational unit the employee belongs to.")
    first_absence_day: date = Field(description="S: the first day of absence of the case.")
    began_with: BeganWith = Field(description="How the absence began: egenmelding or sykmelding.")


class SelfCertificationRegistered(Contract):
    """The employee self-certified (egenmelding) absence for a few calendar days."""

    case_id: str = CASE_ID
    period_start: date
    period_end: date
    days: int = Field(ge=1, description="Calendar days covered.")
    flagged: bool = Field(
        default=False, description="Accepted although it breaks the tenant's quota (flag policy)."
    )
    flag_reason: str | None = Field(default=None, description="Which quota rule it breaks.")


class SickNoteReceived(Contract):
    """A sick note (sykmelding) from a doctor was received for the case."""

    case_id: str = CASE_ID
    sick_note_id: str = Field(description="Id of the note, unique within the case.")
    period_start: date
    period_end: date
    grade: int = Field(ge=1, le=100, description="Sick-leave grade in per cent (100 = full).")
    kind: SickNoteKind = Field(
        description="ordinary (100 %), graded (gradert, < 100 %) or pending (avventende)."
    )
    received_on: date | None = Field(
        default=None,
        description="When the employer received it (ftrl § 8-18: within 14 days, or sick pay "
        "may be lost).",
    )


class SickNoteExtended(Contract):
    """A sick note was extended (forlenget) to a later end date."""

    case_id: str = CASE_ID
    sick_note_id: str
    period_end: date = Field(description="The new last day of the note.")


class SickNoteCorrected(Contract):
    """A sick note was corrected (period, grade or kind replaced)."""

    case_id: str = CASE_ID
    sick_note_id: str
    period_start: date
    period_end: date
    grade: int = Field(ge=1, le=100)
    kind: SickNoteKind


class SickNoteCancelled(Contract):
    """A sick note was cancelled (annullert): it no longer counts."""

    case_id: str = CASE_ID
    sick_note_id: str
    reason: PersonalStr = Field(min_length=1)


class GradingChanged(Contract):
    """The sick-leave grade changed from a date (endret gradering) within a sick note."""

    case_id: str = CASE_ID
    sick_note_id: str
    effective_from: date
    grade: int = Field(ge=1, le=100)


class ManagerReassigned(Contract):
    """The case moved to a new nearest manager; its whole history follows it."""

    case_id: str = CASE_ID
    previous_manager_id: PersonalStr
    manager_id: PersonalStr
    effective_on: date


class ReturnedToWork(Contract):
    """The employee returned to work (friskmeldt), fully or partly."""

    case_id: str = CASE_ID
    returned_on: date
    extent: Literal["full", "partial"]
    working_percent: int = Field(
        ge=1, le=100, description="Share of normal working time resumed (100 when full)."
    )


class CaseClosed(Contract):
    """The case was closed (tilfellet avsluttet)."""

    case_id: str = CASE_ID
    closed_on: date
    reason: Literal["returned_to_work", "employment_ended", "max_date_reached", "other"]


class CaseReopened(Contract):
    """A new absence began within 16 days of the last one, so the same case continues."""

    case_id: str = CASE_ID
    absence_start: date = Field(description="First day of the new absence.")
    began_with: BeganWith


class ObligationWaived(Contract):
    """An obligation of the timeline was waived with a reason (e.g. obviously unnecessary)."""

    case_id: str = CASE_ID
    obligation: str = Field(description="The obligation kind, as in the deadline timeline.")
    reason: PersonalStr = Field(min_length=1)
    waived_on: date


def register_case_events(registry: EventRegistry) -> None:
    for name, model in (
        ("case.opened", CaseOpened),
        ("case.self_certification_registered", SelfCertificationRegistered),
        ("case.sick_note_received", SickNoteReceived),
        ("case.sick_note_extended", SickNoteExtended),
        ("case.sick_note_corrected", SickNoteCorrected),
        ("case.sick_note_cancelled", SickNoteCancelled),
        ("case.grading_changed", GradingChanged),
        ("case.manager_reassigned", ManagerReassigned),
        ("case.returned_to_work", ReturnedToWork),
        ("case.closed", CaseClosed),
        ("case.reopened", CaseReopened),
        ("case.obligation_waived", ObligationWaived),
    ):
        registry.register(name, model)
