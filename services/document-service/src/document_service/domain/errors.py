"""Refusals of the document domain; each names its rule, so the API can say what was refused.

The rule becomes the problem type (``urn:naervaer:problem:<rule>``) and ``status`` the HTTP
status: 404 unknown, 403 not a party, 409 a conflict with what is stored, 410 erased, 413/415/422
an upload or request the rules refuse.
"""

from __future__ import annotations


class DomainError(Exception):
    status: int = 422

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class NotFound(DomainError):
    status = 404


class NotAParty(DomainError):
    """Only the parties named on a document may sign it (403)."""

    status = 403

    def __init__(self, detail: str) -> None:
        super().__init__("not_a_party", detail)


class Conflict(DomainError):
    """The request contradicts what is stored: another hash, a decision already made (409)."""

    status = 409


class AttachmentRejected(DomainError):
    """An upload the rules refuse: too large (413), not a PDF or image (415), empty (422)."""

    def __init__(self, rule: str, detail: str, status: int) -> None:
        super().__init__(rule, detail)
        self.status = status


class Gone(DomainError):
    """The case's personal data was erased (slettet) after the retention period (410)."""

    status = 410

    def __init__(self, detail: str) -> None:
        super().__init__("case_erased", detail)
