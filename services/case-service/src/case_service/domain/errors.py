"""Broken domain rules: each names the rule, so the API can say precisely what was refused."""

from __future__ import annotations


class DomainError(Exception):
    """A command the rules of the domain refuse."""

    rule: str = "domain_rule"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class CaseAlreadyOpened(DomainError):
    rule = "case_already_opened"


class CaseNotFound(DomainError):
    rule = "case_not_found"
