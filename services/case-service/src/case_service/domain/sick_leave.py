"""Sick notes (sykmeldinger) and self-certifications (egenmeldinger) of a case.

Rules: a period ends on or after its start; an ordinary note is 100 %, a graded note below
100 %; a pending note (avventende) lies inside the employer period (S … S + 15) and so lasts at
most 16 days; notes of a case never overlap; a cancelled note cannot change. Only the case's
first fact may start before S (the case was opened on a later day than the absence began, and
that fact moves S back); later facts may lie in the past, but not before S, which deadlines
already count from.
"""

from __future__ import annotations

from datetime import date

from case_service.domain.base import CaseBase
from case_service.domain.employee import EmployeeRecord
from case_service.domain.errors import NotFound, RuleBroken
from case_service.domain.periods import EMPLOYER_PERIOD_DAYS, Period, employer_period
from case_service.domain.state import SickNote
from case_service.domain.tenant_policy import CasePolicy
from naervaer.contracts.case import (
    GradingChanged,
    SelfCertificationRegistered,
    SickNoteCancelled,
    SickNoteCorrected,
    SickNoteExtended,
    SickNoteKind,
    SickNoteReceived,
)


class SickLeaveDecisions(CaseBase):
    def receive_sick_note(
        self,
        *,
        sick_note_id: str,
        period_start: date,
        period_end: date,
        grade: int,
        kind: SickNoteKind,
        received_on: date,
    ) -> None:
        """A sick note (sykmelding) arrived from the doctor."""
        self._require_open()
        if sick_note_id in self.state.sick_notes:
            raise RuleBroken("sick_note_exists", f"sick note {sick_note_id} was received before")
        period = Period.of(period_start, period_end)
        self._check_note(sick_note_id, period, grade, kind)
        self._record(
            SickNoteReceived(
                case_id=self.case_id,
                sick_note_id=sick_note_id,
                period_start=period.start,
                period_end=period.end,
                grade=grade,
                kind=kind,
                received_on=received_on,
            )
        )

    def extend_sick_note(self, *, sick_note_id: str, period_end: date) -> None:
        """The note was extended (forlenget) to a later last day."""
        note = self._live_note(sick_note_id)
        if period_end <= note.period.end:
            raise RuleBroken(
                "extension_not_later",
                f"an extension ends after the note's last day {note.period.end}",
            )
        self._check_note(sick_note_id, Period(note.period.start, period_end), note.grade, note.kind)
        self._record(
            SickNoteExtended(case_id=self.case_id, sick_note_id=sick_note_id, period_end=period_end)
        )

    def correct_sick_note(
        self,
        *,
        sick_note_id: str,
        period_start: date,
        period_end: date,
        grade: int,
        kind: SickNoteKind,
    ) -> None:
        """The note's period, grade or kind was wrong: replace them (gradings start over)."""
        self._live_note(sick_note_id)
        period = Period.of(period_start, period_end)
        self._check_note(sick_note_id, period, grade, kind)
        self._record(
            SickNoteCorrected(
                case_id=self.case_id,
                sick_note_id=sick_note_id,
                period_start=period.start,
                period_end=period.end,
                grade=grade,
                kind=kind,
            )
        )

    def cancel_sick_note(self, *, sick_note_id: str, reason: str) -> None:
        """The note no longer counts (annullert)."""
        self._live_note(sick_note_id)
        self._record(
            SickNoteCancelled(case_id=self.case_id, sick_note_id=sick_note_id, reason=reason)
        )

    def change_grading(self, *, sick_note_id: str, effective_from: date, grade: int) -> None:
        """The grade changes from a day inside the note (endret gradering)."""
        note = self._live_note(sick_note_id)
        if note.kind == "pending":
            raise RuleBroken("pending_note_has_no_grade", "a pending note cannot be graded")
        if not note.period.start <= effective_from <= note.period.end:
            raise RuleBroken(
                "grading_outside_note", f"{effective_from} lies outside the note ({note.period})"
            )
        if note.grade_on(effective_from) == grade:
            raise RuleBroken(
                "grading_unchanged", f"the grade on {effective_from} is {grade} already"
            )
        self._record(
            GradingChanged(
                case_id=self.case_id,
                sick_note_id=sick_note_id,
                effective_from=effective_from,
                grade=grade,
            )
        )

    def register_self_certification(
        self,
        *,
        period_start: date,
        period_end: date,
        employee: EmployeeRecord,
        policy: CasePolicy,
    ) -> None:
        """The employee self-certified (egenmelding); the quota is the employee's, across cases.

        Records the use on ``employee`` too: both are saved together.
        """
        self._require_open()
        period = Period.of(period_start, period_end)
        absences = self.state.absence_periods()
        self._check_start(period, absences)
        if any(period.overlaps(other) for other in absences):
            raise RuleBroken(
                "self_certification_overlap", f"{period} overlaps absence already recorded"
            )
        flag_reason = employee.use_self_certification(self.case_id, period, policy)
        self._record(
            SelfCertificationRegistered(
                case_id=self.case_id,
                period_start=period.start,
                period_end=period.end,
                days=period.days,
                flagged=flag_reason is not None,
                flag_reason=flag_reason,
            )
        )

    def _live_note(self, sick_note_id: str) -> SickNote:
        self._require_open()
        note = self.state.sick_notes.get(sick_note_id)
        if note is None:
            raise NotFound("sick_note_not_found", f"case has no sick note {sick_note_id}")
        if note.cancelled:
            raise RuleBroken("sick_note_cancelled", f"sick note {sick_note_id} is cancelled")
        return note

    def _check_note(self, sick_note_id: str, period: Period, grade: int, kind: str) -> None:
        _check_grade(grade, kind)
        others = [
            note.period
            for other_id, note in self.state.sick_notes.items()
            if other_id != sick_note_id and not note.cancelled
        ]
        case_start = self._check_start(period, others + self.state.self_certifications)
        if any(period.overlaps(other) for other in others):
            raise RuleBroken("sick_note_overlap", f"{period} overlaps another sick note")
        if kind == "pending":
            _check_pending(period, case_start)

    def _check_start(self, period: Period, other_facts: list[Period]) -> date:
        """Refuse a fact before S unless it is the only one; return S with the fact counted."""
        assert self.state.opened is not None
        if other_facts and period.start < self.state.case_start:
            raise RuleBroken(
                "absence_before_case_start",
                f"{period} starts before the case's first absence day {self.state.case_start}",
            )
        return min(
            [self.state.opened.first_absence_day, period.start, *(p.start for p in other_facts)]
        )


def _check_grade(grade: int, kind: str) -> None:
    if kind == "ordinary" and grade != 100:
        raise RuleBroken("ordinary_note_not_full", "an ordinary sick note has grade 100")
    if kind == "graded" and grade >= 100:
        raise RuleBroken("graded_note_not_reduced", "a graded sick note has a grade below 100")


def _check_pending(period: Period, case_start: date) -> None:
    if period.days > EMPLOYER_PERIOD_DAYS:
        raise RuleBroken(
            "pending_note_too_long",
            f"a pending note lasts at most {EMPLOYER_PERIOD_DAYS} days ({period.days} given)",
        )
    inside = employer_period(case_start)
    if not period.within(inside):
        raise RuleBroken(
            "pending_note_outside_employer_period",
            f"a pending note lies inside the employer period {inside}",
        )
