"""FastAPI glue: the caller's ``Principal`` from ``Authorization: Bearer``, and ``authorize``.

Each app carries its own verifier (``app.state.token_verifier``) and access recorder
(``app.state.access_recorder``), set by the app factory: in the embedded default four apps
share one process and must not share them through globals. Failures answer as RFC 9457
problems: 401 with ``WWW-Authenticate`` (RFC 6750), 403, 404 across tenants, 503 when the
identity provider's keys cannot be fetched.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Annotated

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from naervaer.auth.access import AccessRecorder, access_record
from naervaer.auth.errors import KeysUnavailable, TokenError
from naervaer.auth.policy import TENANT_MISMATCH, Decision
from naervaer.auth.principal import Principal
from naervaer.auth.verify import TokenVerifier
from naervaer.http.problems import Problem, ProblemError

REALM = "naervaer"
_log = logging.getLogger(__name__)
# RFC 6750 §3: error_description is limited to these characters.
_UNSAFE_DESCRIPTION_CHARS = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")

_bearer = HTTPBearer(
    auto_error=False,  # we answer 401 ourselves, as a problem document with WWW-Authenticate
    scheme_name="bearer",
    description="OAuth2 bearer JWT; in development mint one with `naervaer token`.",
)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller; 401 when the bearer token is missing or invalid."""
    if credentials is None:
        raise unauthorized("missing bearer token", invalid_token=False)
    verifier = token_verifier(request.app)
    try:
        principal = await verifier.verify_async(credentials.credentials)
    except TokenError as exc:
        raise unauthorized(exc.reason) from None
    except KeysUnavailable as exc:
        _log.warning("token signing keys unavailable: %s", exc)
        problem = Problem.for_status(
            503, "auth-keys-unavailable", detail="Signing keys cannot be fetched; retry later."
        )
        raise ProblemError(problem, headers={"Retry-After": "5"}) from None
    # Every log line of the rest of this request names the tenant.
    structlog.contextvars.bind_contextvars(tenant=principal.tenant)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""Route parameter type: ``async def get_case(p: CurrentPrincipal, …)``."""


async def authorize(
    request: Request,
    principal: Principal,
    decision: Decision,
    *,
    operation: str,
    resource: str,
    resource_id: str,
    case_id: str | None = None,
    at: datetime | None = None,
) -> None:
    """Record the access (innsynslogg) through the app's recorder, then refuse unless allowed.

    ``operation`` is ``"read"`` or the write action; the record is written for refusals too.
    """
    record = access_record(
        principal,
        decision,
        operation=operation,
        resource=resource,
        resource_id=resource_id,
        case_id=case_id,
        at=at or datetime.now(UTC),
        correlation_id=structlog.contextvars.get_contextvars().get("correlation_id"),
    )
    await access_recorder(request.app)(record)
    if not decision.allowed:
        raise forbidden(decision)


def forbidden(decision: Decision) -> ProblemError:
    """The answer to a refused decision: 403, or 404 across tenants (reveals no foreign ids)."""
    if decision.reason == TENANT_MISMATCH:
        return ProblemError(Problem.for_status(404, detail="No such resource."))
    return ProblemError(Problem.for_status(403, "forbidden", detail=decision.reason))


def unauthorized(reason: str, *, invalid_token: bool = True) -> ProblemError:
    """401 with ``WWW-Authenticate``; RFC 6750 gives no error code when no token was sent."""
    challenge = f'Bearer realm="{REALM}"'
    if invalid_token:
        description = _UNSAFE_DESCRIPTION_CHARS.sub("?", reason)
        challenge += f', error="invalid_token", error_description="{description}"'
    problem = Problem.for_status(401, "unauthorized", detail=reason)
    return ProblemError(problem, headers={"WWW-Authenticate": challenge})


def token_verifier(app: FastAPI) -> TokenVerifier:
    """The app's verifier; a missing one is a wiring bug, so fail closed (500)."""
    verifier = getattr(app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        raise RuntimeError("app.state.token_verifier is not set; the app factory must set it")
    return verifier


def access_recorder(app: FastAPI) -> AccessRecorder:
    """The app's access record hook; without one no case may be read (fail closed)."""
    recorder: AccessRecorder | None = getattr(app.state, "access_recorder", None)
    if recorder is None:
        raise RuntimeError("app.state.access_recorder is not set; the app factory must set it")
    return recorder
