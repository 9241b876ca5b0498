"""Who asks, how a retry is recognised, and what the caller last saw (If-Match)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel

from case_service.adapters.streams import Write
from naervaer.auth.policy import Decision
from naervaer.auth.principal import Principal


class Gate(Protocol):
    """Records the access (innsynslogg) and refuses unless ``decision`` allows."""

    async def __call__(
        self,
        decision: Decision,
        *,
        operation: str,
        resource: str,
        resource_id: str,
        case_id: str | None = None,
    ) -> None: ...


class PreconditionFailed(Exception):
    """``If-Match`` names a version that is not the current one (HTTP 412)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the current version is {current_version}")
        self.current_version = current_version


@dataclass(frozen=True)
class CommandMeta:
    """Everything about a request besides its command: caller, retry identity, precondition."""

    principal: Principal
    authorize: Gate
    route: str  # method and concrete path, e.g. "POST /v1/cases/…/sick-notes"
    idempotency_key: str | None = None
    if_match: str | None = None
    correlation_id: str | None = None

    def write(self, command: BaseModel) -> Write:
        """The command's identity in the store: tenant, caller, route and key, body hash."""
        if self.idempotency_key is None:
            return Write(correlation_id=self.correlation_id)
        p = self.principal
        return Write(
            # Hashed: the caller and the path may name the employee, and the command log
            # outlives their personal data.
            command_id="cmd:" + _digest(p.tenant, p.subject, self.route, self.idempotency_key),
            fingerprint=hashlib.sha256(command.model_dump_json().encode()).hexdigest(),
            correlation_id=self.correlation_id,
        )

    def check_if_match(self, current_version: int) -> None:
        """Refuse when ``If-Match`` does not name ``current_version``.

        Takes the ETag form (``"3"``), a bare number (``3``), a list or ``*``. Weak tags
        (``W/"3"``) never match: If-Match compares strongly (RFC 9110 §13.1.1).
        """
        if self.if_match is None or self.if_match.strip() == "*":
            return
        tags = {tag.strip() for tag in self.if_match.split(",")}
        if not tags & {str(current_version), f'"{current_version}"'}:
            raise PreconditionFailed(current_version)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()
