"""FastAPI dependencies of the case API: handlers, the command's meta, the diagnosis guard."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import structlog
from fastapi import Depends, Header, Path, Request, Response

from case_service.adapters.repository import CaseRepository, CaseVersion
from case_service.api.schemas import CaseVersionResponse
from case_service.app.commands import CaseCommand
from case_service.app.commands.base import ID_PATTERN
from case_service.app.handlers import Handlers
from case_service.app.meta import CommandMeta
from case_service.domain.errors import CaseNotFound
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import TENANT_MISMATCH, Decision
from naervaer.auth.principal import Principal
from naervaer.http.problems import ProblemError

PathId = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN)]


# The dependencies are ``async def`` although they never await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop per dependency and request for nothing.
async def _handlers(request: Request) -> Handlers:
    handlers: Handlers = request.app.state.handlers
    return handlers


async def _cases(request: Request) -> CaseRepository:
    handlers: Handlers = request.app.state.handlers
    return handlers.cases


IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=200,
        description="A retried request with the same key and body returns the first "
        "response and writes nothing; the same key with another body is refused (422).",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        max_length=200,
        description='The version the change is based on, as the ETag (`"3"`) or a bare '
        "number: a stale version answers 412. Without it the write is checked against the "
        "version the service loaded, so a concurrent change answers 409.",
    ),
]


async def _meta(
    request: Request,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CommandMeta:
    return command_meta(request, principal, idempotency_key, if_match)


def command_meta(
    request: Request, principal: Principal, idempotency_key: str | None, if_match: str | None
) -> CommandMeta:
    """The command's meta: who asks, how it is authorized, its idempotency key and If-Match."""

    async def gate(
        decision: Decision,
        *,
        operation: str,
        resource: str,
        resource_id: str,
        case_id: str | None = None,
    ) -> None:
        await authorize_case(
            request,
            principal,
            decision,
            operation=operation,
            resource=resource,
            resource_id=resource_id,
            case_id=case_id,
        )

    return CommandMeta(
        principal=principal,
        authorize=gate,
        route=f"{request.method} {request.url.path}",
        idempotency_key=idempotency_key,
        if_match=if_match,
        correlation_id=structlog.contextvars.get_contextvars().get("correlation_id"),
    )


async def authorize_case(
    request: Request,
    principal: Principal,
    decision: Decision,
    *,
    operation: str,
    resource: str,
    resource_id: str,
    case_id: str | None = None,
) -> None:
    """``authorize``, answering for another tenant's case exactly as for an unknown one.

    The shared 404 across tenants already hides the case; matching the unknown-case problem
    word for word leaves nothing to tell the two apart.
    """
    try:
        await authorize(
            request,
            principal,
            decision,
            operation=operation,
            resource=resource,
            resource_id=resource_id,
            case_id=case_id,
        )
    except ProblemError:
        if case_id is not None and decision.reason == TENANT_MISMATCH:
            raise CaseNotFound(f"no case {case_id}") from None
        raise


HandlersDep = Annotated[Handlers, Depends(_handlers)]
CasesDep = Annotated[CaseRepository, Depends(_cases)]
MetaDep = Annotated[CommandMeta, Depends(_meta)]


@dataclass(frozen=True)
class CaseCommands:
    """Runs a case command and answers ``{"case_id", "version"}`` with the version's ETag."""

    handlers: Handlers
    meta: CommandMeta
    response: Response

    async def run(self, case_id: str, command: CaseCommand) -> CaseVersionResponse:
        return self.answer(await self.handlers.on_case(case_id, command, self.meta))

    def answer(self, result: CaseVersion) -> CaseVersionResponse:
        self.response.headers["ETag"] = f'"{result.version}"'
        return CaseVersionResponse(case_id=result.case_id, version=result.version)


# One dependency of its own, not one built on ``_handlers`` and ``_meta``: FastAPI's work per
# dependency and request (cache keys, scope checks, parameters) is paid once rather than three
# times on every case command (issue 8, W3).
async def _case_commands(
    request: Request,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> CaseCommands:
    handlers: Handlers = request.app.state.handlers
    return CaseCommands(
        handlers, command_meta(request, principal, idempotency_key, if_match), response
    )


CaseCommandsDep = Annotated[CaseCommands, Depends(_case_commands)]
