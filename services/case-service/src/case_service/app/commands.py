"""Commands: what a caller asks the case service to do (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from case_service.domain.case import BeganWith
from naervaer.auth.principal import Principal


@dataclass(frozen=True)
class CommandMeta:
    """Who asks, and how a retry of the same request is recognised."""

    principal: Principal
    idempotency_key: str | None = None
    correlation_id: str | None = None

    def command_id(self, name: str) -> str | None:
        if self.idempotency_key is None:
            return None
        return f"{self.principal.tenant}:{self.principal.subject}:{name}:{self.idempotency_key}"


@dataclass(frozen=True)
class OpenCase:
    case_id: str
    employee_id: str
    manager_id: str
    org_unit: str
    first_absence_day: date
    began_with: BeganWith
