"""The case's life: opened, managed, returned to work, closed, reopened; obligations waived.

Rules: a case is reopened only when closed, and only when the new absence starts within 16 days
of the last absence day (15 or fewer non-sick days between: the same oppfølgingstilfelle);
later, a new case is needed. A waived obligation is one of the timeline's kinds, waived once.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from case_service.domain.base import CaseBase
from case_service.domain.errors import RuleBroken
from case_service.domain.periods import NEW_CASE_AFTER_DAYS
from naervaer.contracts.case import (
    OBLIGATION_KINDS,
    BeganWith,
    CaseClosed,
    CaseOpened,
    CaseReopened,
    ManagerReassigned,
    ObligationWaived,
    ReturnedToWork,
)

CloseReason = Literal["returned_to_work", "employment_ended", "max_date_reached", "other"]


class LifecycleDecisions(CaseBase):
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
        if self.state.status != "new":
            raise RuleBroken("case_already_opened", f"case {self.case_id} is already open")
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

    def reassign_manager(self, *, manager_id: str, today: date) -> None:
        """A new nearest manager takes over; the whole history follows the case."""
        self._require_open()
        previous = self.state.manager_id
        assert previous is not None
        if manager_id == previous:
            # Not the id: problem details end up in logs, and an id is personal data.
            raise RuleBroken("manager_unchanged", "the case has that manager already")
        self._record(
            ManagerReassigned(
                case_id=self.case_id,
                previous_manager_id=previous,
                manager_id=manager_id,
                effective_on=today,
            )
        )

    def return_to_work(
        self, *, returned_on: date, extent: Literal["full", "partial"], working_percent: int
    ) -> None:
        """The employee is back at work (friskmeldt), fully or partly."""
        self._require_open()
        if (extent == "full") != (working_percent == 100):
            raise RuleBroken(
                "working_percent_mismatch",
                "a full return is 100 % of working time, a partial one less",
            )
        self._check_not_before_start(returned_on, "the return")
        self._record(
            ReturnedToWork(
                case_id=self.case_id,
                returned_on=returned_on,
                extent=extent,
                working_percent=working_percent,
            )
        )

    def close(self, *, closed_on: date, reason: CloseReason) -> None:
        self._require_open()
        self._check_not_before_start(closed_on, "closing")
        self._record(CaseClosed(case_id=self.case_id, closed_on=closed_on, reason=reason))

    def reopen(self, *, absence_start: date, began_with: BeganWith) -> None:
        """A new absence soon after the last one continues the same case (same S)."""
        if self.state.status != "closed":
            raise RuleBroken("case_not_closed", f"case {self.case_id} is not closed")
        self._check_not_before_start(absence_start, "the new absence")
        last = self.state.last_absence_day()
        if absence_start > last + timedelta(days=NEW_CASE_AFTER_DAYS):
            gap = (absence_start - last).days - 1
            raise RuleBroken(
                "new_case_required",
                f"{gap} days without absence since the last absence day {last}: 16 or more "
                "make a new case, so open a new case instead of reopening this one",
            )
        self._record(
            CaseReopened(case_id=self.case_id, absence_start=absence_start, began_with=began_with)
        )

    def waive_obligation(self, *, obligation: str, reason: str, today: date) -> None:
        """An obligation of the timeline is waived with its reason (e.g. obviously unneeded)."""
        self._require_open()
        if obligation not in OBLIGATION_KINDS:
            raise RuleBroken(
                "unknown_obligation",
                f"{obligation!r} is no obligation kind; known: {', '.join(OBLIGATION_KINDS)}",
            )
        if obligation in self.state.waived:
            raise RuleBroken("obligation_already_waived", f"{obligation} is waived already")
        self._record(
            ObligationWaived(
                case_id=self.case_id, obligation=obligation, reason=reason, waived_on=today
            )
        )

    def _check_not_before_start(self, day: date, what: str) -> None:
        if day < self.state.case_start:
            raise RuleBroken(
                "before_case_start",
                f"{what} ({day}) lies before the case's first absence day {self.state.case_start}",
            )
