"""Broken domain rules: each names its rule, so the API can say precisely what was refused.

The rule becomes the problem type (``urn:naervaer:problem:<rule>``); ``status`` is the HTTP
status the API answers with: 422 for a broken rule, 404 for an unknown part of the case and
409 for a change based on a stale version.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules of the domain refuse."""

    status: int = 422
    title: str | None = None  # the problem's title; None: the status's usual one

    def __init__(self, rule: str, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.extensions = extensions  # extra problem members, e.g. erasable_from


class RuleBroken(DomainError):
    """The command breaks a rule of sick-leave follow-up (422)."""


class NotFound(DomainError):
    """The command names a case, sick note, meeting … that does not exist (404)."""

    status = 404


class StaleVersion(DomainError):
    """The command was based on a version that is no longer the current one (409)."""

    status = 409


class CaseNotFound(NotFound):
    def __init__(self, detail: str) -> None:
        super().__init__("case_not_found", detail)


class StateConflict(DomainError):
    """The command conflicts with what holds now: a legal hold, an open case … (409)."""

    status = 409
    title = "Conflicts with the current state"


class CaseErased(DomainError):
    """The case's personal data was erased (slettet): it takes no command and shows nothing."""

    status = 410
    title = "Erased"

    def __init__(self, case_id: str) -> None:
        super().__init__(
            "case_erased",
            f"case {case_id}: the employee's personal data was erased after the retention "
            "period; the case takes no command and shows nothing personal",
        )
