"""What every command shares: strict validation, and (for case commands) how it is executed.

Commands are the request bodies of the API: frozen pydantic models with their constraints and
descriptions, so what OpenAPI documents is exactly what the handler receives.
"""

from __future__ import annotations

from abc import abstractmethod
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from case_service.domain.case import Case
from naervaer.auth.principal import Role

ID_PATTERN = r"^[A-Za-z0-9._:@-]+$"
TEXT_MAX = 4000


def id_field(description: str) -> Any:
    """An identifier the caller gives (e.g. the sick note's own id): no spaces, no text."""
    return Field(min_length=1, max_length=128, pattern=ID_PATTERN, description=description)


def text_field(description: str, *, max_length: int = TEXT_MAX) -> Any:
    """Free text: work-related, never health data (checked for diagnoses on the way in)."""
    return Field(min_length=1, max_length=max_length, description=description)


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CaseCommand(Command):
    """A command on one case: authorised as ``action``, executed by one aggregate method."""

    action: ClassVar[str]
    only_roles: ClassVar[frozenset[Role] | None] = None  # set when the act is reserved

    def action_on(self, case: Case) -> str:
        """The action the access policy judges (some depend on the case, e.g. meeting 2)."""
        return self.action

    @abstractmethod
    def execute(self, case: Case, today: date) -> None:
        """Call the one aggregate method that decides this command."""
