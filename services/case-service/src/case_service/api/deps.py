"""FastAPI dependencies of the case API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from case_service.adapters.repository import CaseRepository
from case_service.app.commands import CommandMeta
from case_service.app.handlers import Handlers
from naervaer.auth.fastapi import CurrentPrincipal


def _handlers(request: Request) -> Handlers:
    handlers: Handlers = request.app.state.handlers
    return handlers


def _cases(request: Request) -> CaseRepository:
    cases: CaseRepository = request.app.state.handlers.cases
    return cases


def _meta(
    principal: CurrentPrincipal,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="A retried request with the same key returns the first response.",
        ),
    ] = None,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
) -> CommandMeta:
    return CommandMeta(principal, idempotency_key, x_correlation_id)


HandlersDep = Annotated[Handlers, Depends(_handlers)]
CasesDep = Annotated[CaseRepository, Depends(_cases)]
MetaDep = Annotated[CommandMeta, Depends(_meta)]
