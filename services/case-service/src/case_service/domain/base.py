"""What every part of the case aggregate shares: its state, its pending events, its guards."""

from __future__ import annotations

from pydantic import BaseModel

from case_service.domain.errors import CaseErased, RuleBroken
from case_service.domain.state import CaseState, evolve
from naervaer.contracts.case import CaseOpened
from naervaer.privacy.sealing import ERASED


class CaseBase:
    """The case's identity, state and the events recorded but not yet saved."""

    def __init__(self, case_id: str) -> None:
        self.state = CaseState(case_id)
        self.version = 0
        self.tenant: str | None = None
        self.pending: list[BaseModel] = []

    @property
    def case_id(self) -> str:
        return self.state.case_id

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def opened(self) -> CaseOpened | None:
        return self.state.opened

    @property
    def manager_id(self) -> str | None:
        """The current nearest manager (nærmeste leder), after any reassignment."""
        return self.state.manager_id

    @property
    def erased(self) -> bool:
        """The employee's key was destroyed: who the case is about now reads ``[erased]``."""
        return self.state.opened is not None and self.state.opened.employee_id == ERASED

    def require_not_erased(self) -> None:
        """An erased case takes no command and shows nothing personal (410)."""
        if self.erased:
            raise CaseErased(self.case_id)

    def _record(self, event: BaseModel) -> None:
        evolve(self.state, event)
        self.pending.append(event)

    def _require_open(self) -> None:
        """A closed case takes no command but reopening (reads stay possible)."""
        if self.state.status == "closed":
            raise RuleBroken(
                "case_closed", f"case {self.case_id} is closed; reopen it to record more"
            )
        if self.state.status == "new":
            raise RuleBroken("case_not_opened", f"case {self.case_id} has not been opened")
