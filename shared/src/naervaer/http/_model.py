"""The problem details document (RFC 9457) and the exception that carries one."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:naervaer:problem:"


def problem_type(slug: str) -> str:
    """Our problem type URI for ``slug``, e.g. ``urn:naervaer:problem:validation-error``."""
    return f"{PROBLEM_TYPE_PREFIX}{slug}"


class InvalidParam(BaseModel):
    """One invalid value in a request (the ``errors`` extension member)."""

    location: str = Field(
        description="Where the value is: a JSON pointer into the body (`#/period/start`) or "
        "`query.<name>`, `path.<name>`, `header.<name>`, `cookie.<name>`.",
        examples=["#/period/start", "query.limit"],
    )
    message: str = Field(description="What is wrong, for humans.")
    type: str = Field(description="Stable error code, e.g. `missing`, `int_parsing`.")


class Problem(BaseModel):
    """RFC 9457 problem details; extension members beyond the declared ones are allowed."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(
        default="about:blank",
        description="URI of the problem type: `about:blank` (the status says it all) or "
        "`urn:naervaer:problem:<slug>`.",
    )
    title: str | None = Field(default=None, description="Short summary of the problem type.")
    status: int | None = Field(default=None, ge=100, le=599, description="The HTTP status code.")
    detail: str | None = Field(default=None, description="This occurrence, for humans.")
    instance: str | None = Field(default=None, description="The request path it occurred on.")
    errors: list[InvalidParam] | None = Field(
        default=None, description="Invalid request values (validation problems)."
    )
    rule: str | None = Field(
        default=None, description="The business rule that refused the request, when one did."
    )

    @classmethod
    def for_status(
        cls,
        status: int,
        slug: str | None = None,
        *,
        title: str | None = None,
        detail: str | None = None,
        **extensions: Any,
    ) -> Problem:
        """A problem for ``status``; without ``slug`` its type is ``about:blank``.

        The title defaults to the status phrase, as RFC 9457 asks for ``about:blank``.
        """
        return cls(
            type=problem_type(slug) if slug else "about:blank",
            title=title or _phrase(status),
            status=status,
            detail=detail,
            **extensions,
        )

    def body(self) -> dict[str, Any]:
        """The JSON document sent to the client (unset members left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class ProblemError(Exception):
    """Raise anywhere in a request to answer with ``problem`` (and optional headers)."""

    def __init__(self, problem: Problem, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.detail or problem.title or problem.type)
        self.problem = problem
        self.headers = dict(headers or {})


class ProblemResponse(JSONResponse):
    """A response with a problem document as body and ``application/problem+json``."""

    media_type = PROBLEM_MEDIA_TYPE

    def __init__(self, problem: Problem, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.body(), status_code=problem.status or 500, headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
