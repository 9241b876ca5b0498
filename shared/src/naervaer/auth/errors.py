"""Why authentication failed; the messages are safe to show to the caller."""

from __future__ import annotations


class AuthConfigurationError(RuntimeError):
    """Authentication is configured wrongly; the service must not start."""


class TokenError(Exception):
    """A bearer token was refused; ``reason`` says precisely why (no secrets in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeysUnavailable(Exception):
    """The signing keys could not be fetched (JWKS endpoint down): not the caller's fault."""
