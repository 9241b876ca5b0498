"""The state the case summary (saksoversikt) is folded into, kept as JSON in its row.

Every fact remembers ``seq``: the stream version of the event that stated it. When facts speak
about the same day, the most recent one wins (see ``summary_days``), so corrections, grading
changes and returns to work never need to rewrite what came before.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from naervaer.contracts.case import BeganWith, SickNoteKind

CaseStatus = Literal["open", "closed"]
AdjustmentArea = Literal["tasks", "working_time", "workplace"]
AdjustmentOutcome = Literal["worked", "partly_worked", "did_not_work"]
PlanRecipient = Literal["doctor", "nav"]


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NotePart(_State):
    """Days a sick note covers, as stated by one event (the note itself or an extension)."""

    start: date
    end: date
    seq: int


class Grading(_State):
    """A grade change within a sick note (endret gradering), from a day to the note's end."""

    effective_from: date
    grade: int
    seq: int


class SickNote(_State):
    """A sick note (sykmelding) as it currently reads; cancelled notes are removed."""

    note_id: str
    kind: SickNoteKind
    grade: int
    parts: list[NotePart]
    gradings: list[Grading] = Field(default_factory=list)

    @property
    def end(self) -> date:
        return max(part.end for part in self.parts)


class SelfCertification(_State):
    """Self-certified days (egenmelding): always a full (100 %) absence."""

    start: date
    end: date
    seq: int


class Cut(_State):
    """From ``from_day`` on, facts stated before ``seq`` no longer count as absence.

    A full return to work (friskmelding) cuts from the day of return; closing the case cuts
    from the day after it closed. Later sick notes or self-certifications count again.
    """

    from_day: date
    seq: int


class PartialReturn(_State):
    """A partial return: from ``from_day`` the grade is what is not worked (100 - working %)."""

    from_day: date
    grade: int
    seq: int


class Meeting(_State):
    """A dialogue meeting (dialogmøte): scheduled, held or cancelled."""

    meeting_id: str
    number: int
    starts_at: datetime | None = None
    held_on: date | None = None
    cancelled: bool = False


class Adjustment(_State):
    """An adjustment (tilrettelegging) and, once made, its evaluation."""

    adjustment_id: str
    area: AdjustmentArea
    starts_on: date
    ends_on: date
    evaluated_on: date | None = None
    outcome: AdjustmentOutcome | None = None


class SummaryState(_State):
    """Everything the summary of one case (sykefraværstilfelle) is derived from."""

    case_id: str
    employee_id: str
    manager_id: str
    org_unit: str
    began_with: BeganWith
    first_absence_day: date = Field(description="As the case was opened (see SummaryFacts).")
    status: CaseStatus = "open"
    closed_on: date | None = None
    notes: dict[str, SickNote] = Field(default_factory=dict)
    self_certifications: list[SelfCertification] = Field(default_factory=list)
    cuts: list[Cut] = Field(default_factory=list)
    partial_returns: list[PartialReturn] = Field(default_factory=list)
    plan_version: int = 0
    plan_made_on: date | None = None
    plan_shared_with: list[PlanRecipient] = Field(default_factory=list)
    meetings: dict[str, Meeting] = Field(default_factory=dict)
    adjustments: dict[str, Adjustment] = Field(default_factory=dict)
