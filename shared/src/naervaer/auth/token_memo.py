"""Tokens already verified against a key that cannot change: their principal, until they lapse.

A client sends the same bearer token with every request until it expires. Checking its
signature, issuer, audience and claims again gives the same answer each time as long as the
key is the same, so with a static key (a configured PEM or the dev key: fixed for the process's
life) the answer is kept. What does change, time, is checked on every use: a kept token is
answered only while ``exp``, ``nbf`` and ``iat`` would still pass with the verifier's leeway;
otherwise it is dropped and verified in full, which gives the precise refusal. Tokens checked
against a JWKS are never kept: a key the identity provider withdraws must stop verifying.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from naervaer.auth.principal import Principal

DEFAULT_MAX_TOKENS = 4096


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    expires: float  # exp
    not_before: float  # the later of nbf and iat (both must not lie in the future)


class TokenMemo:
    """The principals of verified tokens, bounded; one per ``TokenVerifier``."""

    def __init__(
        self,
        *,
        leeway_s: float,
        max_tokens: int = DEFAULT_MAX_TOKENS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._leeway_s = leeway_s
        self._max_tokens = max_tokens
        self._now = now
        self._kept: dict[str, _Verified] = {}

    def principal(self, token: str) -> Principal | None:
        """The kept principal of ``token`` while its time claims still hold, else None."""
        kept = self._kept.get(token)
        if kept is None:
            return None
        now = self._now()
        # The same comparisons as PyJWT's exp, nbf and iat checks.
        if kept.expires <= now - self._leeway_s or kept.not_before > now + self._leeway_s:
            self._kept.pop(token, None)
            return None
        return kept.principal

    def keep(self, token: str, claims: Mapping[str, Any], principal: Principal) -> None:
        """Keep ``principal`` of a token whose ``claims`` were just verified in full."""
        if len(self._kept) >= self._max_tokens:
            # The oldest kept goes first: dicts keep insertion order.
            self._kept.pop(next(iter(self._kept)), None)
        not_before = max(int(claims.get("nbf", 0)), int(claims["iat"]))
        self._kept[token] = _Verified(principal, int(claims["exp"]), not_before)

    def __len__(self) -> int:
        return len(self._kept)
