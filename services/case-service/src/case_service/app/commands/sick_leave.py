"""Commands on sick notes (sykmeldinger) and self-certification (egenmelding).

A ``…Body`` model is what the request carries; its command adds the ids from the path.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field

from case_service.app.commands.base import CaseCommand, Command, id_field, text_field
from case_service.domain.case import Case
from naervaer.contracts.case import SickNoteKind

_GRADE = "Sick-leave grade in per cent (100 = full)."
_KIND = "ordinary (100 %), graded (gradert, < 100 %) or pending (avventende, max 16 days)."
_NOTE = "The sick note, from the path."


class RegisterSelfCertification(Command):
    """The employee self-certifies (egenmelding) absence for a few calendar days."""

    period_start: date
    period_end: date


class ReceiveSickNote(CaseCommand):
    """A sick note (sykmelding) from the doctor was received."""

    action = "register_sick_note"
    sick_note_id: str = id_field("The note's own id, unique within the case.")
    period_start: date
    period_end: date
    grade: int = Field(ge=1, le=100, description=_GRADE)
    kind: SickNoteKind = Field(description=_KIND)

    def execute(self, case: Case, today: date) -> None:
        case.receive_sick_note(
            sick_note_id=self.sick_note_id,
            period_start=self.period_start,
            period_end=self.period_end,
            grade=self.grade,
            kind=self.kind,
            received_on=today,
        )


class ExtendSickNoteBody(Command):
    """The sick note was extended (forlenget) to a later last day."""

    period_end: date = Field(description="The note's new last day.")


class ExtendSickNote(ExtendSickNoteBody, CaseCommand):
    action = "extend_sick_note"
    sick_note_id: str = id_field(_NOTE)

    def execute(self, case: Case, today: date) -> None:
        case.extend_sick_note(sick_note_id=self.sick_note_id, period_end=self.period_end)


class CorrectSickNoteBody(Command):
    """The note's period, grade or kind was wrong: these replace them."""

    period_start: date
    period_end: date
    grade: int = Field(ge=1, le=100, description=_GRADE)
    kind: SickNoteKind = Field(description=_KIND)


class CorrectSickNote(CorrectSickNoteBody, CaseCommand):
    action = "correct_sick_note"
    sick_note_id: str = id_field(_NOTE)

    def execute(self, case: Case, today: date) -> None:
        case.correct_sick_note(
            sick_note_id=self.sick_note_id,
            period_start=self.period_start,
            period_end=self.period_end,
            grade=self.grade,
            kind=self.kind,
        )


class CancelSickNoteBody(Command):
    """The note no longer counts (annullert)."""

    reason: str = text_field("Why the note is cancelled.", max_length=500)


class CancelSickNote(CancelSickNoteBody, CaseCommand):
    action = "cancel_sick_note"
    sick_note_id: str = id_field(_NOTE)

    def execute(self, case: Case, today: date) -> None:
        case.cancel_sick_note(sick_note_id=self.sick_note_id, reason=self.reason)


class ChangeGradingBody(Command):
    """The grade changes from a day inside the note (endret gradering)."""

    effective_from: date
    grade: int = Field(ge=1, le=100, description=_GRADE)


class ChangeGrading(ChangeGradingBody, CaseCommand):
    action = "change_grading"
    sick_note_id: str = id_field(_NOTE)

    def execute(self, case: Case, today: date) -> None:
        case.change_grading(
            sick_note_id=self.sick_note_id, effective_from=self.effective_from, grade=self.grade
        )
