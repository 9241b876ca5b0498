"""Refusals decided in the application layer (not by the domain's rules)."""

from __future__ import annotations

from naervaer.auth.policy import Decision


class NotAllowed(Exception):
    """The caller's role does not allow the command (the access policy said no)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision
