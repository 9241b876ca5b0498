"""Bearer token verification: signature, algorithm, iss/aud/exp/nbf/iat and our claims."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from naervaer.auth.devkeys import DEV_ALGORITHM, ensure_dev_key
from naervaer.auth.errors import AuthConfigurationError, TokenError
from naervaer.auth.keys import JwksKeys, KeySource, StaticKeys, load_public_key
from naervaer.auth.principal import Principal, Role
from naervaer.auth.settings import AuthSettings
from naervaer.auth.token_memo import TokenMemo
from naervaer.settings import PlatformSettings

MAX_TOKEN_BYTES = 16 * 1024  # far above real tokens; refuses junk before any parsing
REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "tenant", "roles")

_ROLE_VALUES = frozenset(role.value for role in Role)

# Checked in this order: the first matching class gives the caller's reason. PyJWT's own
# text is appended where it adds something (which claim, what is malformed).
_REASONS: tuple[tuple[type[Exception], str, bool], ...] = (
    (jwt_errors.ExpiredSignatureError, "token expired", False),
    (jwt_errors.ImmatureSignatureError, "token not yet valid", True),
    (jwt_errors.InvalidAudienceError, "wrong audience", False),
    (jwt_errors.InvalidIssuerError, "wrong issuer", False),
    (jwt_errors.InvalidSignatureError, "signature verification failed", False),
    (jwt_errors.InvalidKeyError, "signing key unusable", True),
    (jwt_errors.InvalidAlgorithmError, "algorithm not allowed", True),
    (jwt_errors.DecodeError, "malformed token", True),
)


class TokenVerifier:
    """Verifies bearer JWTs and turns them into a ``Principal``; one per app."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str],
        leeway_s: float = 30,
    ) -> None:
        unsafe = [alg for alg in algorithms if alg.lower() == "none" or alg.startswith("HS")]
        if unsafe or not algorithms:
            raise AuthConfigurationError(f"asymmetric algorithms only; got {list(algorithms)}")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._algorithms = tuple(algorithms)
        self._leeway_s = leeway_s
        # Only a static key's answers may be kept (see token_memo); a JWKS can withdraw keys.
        self._memo = TokenMemo(leeway_s=leeway_s) if isinstance(keys, StaticKeys) else None

    @classmethod
    def from_settings(cls, auth: AuthSettings, platform: PlatformSettings) -> TokenVerifier:
        """The verifier the settings describe; refuses production without a configured key."""
        return cls(
            _key_source(auth, platform),
            issuer=auth.issuer,
            audience=auth.audience,
            algorithms=auth.algorithms,
            leeway_s=auth.leeway_s,
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid ``token``; ``TokenError`` with the precise reason if not.

        May block on a JWKS fetch: from async code call ``verify_async``. A token verified
        before against a static key is answered from the memo while its time claims hold.
        """
        if self._memo is not None and (kept := self._memo.principal(token)) is not None:
            return kept
        alg, kid = self._checked_header(token)
        key = self._keys.key_for(kid, alg)
        claims = self._decoded(token, key)
        principal = principal_from_claims(claims)
        if self._memo is not None:
            self._memo.keep(token, claims, principal)
        return principal

    async def verify_async(self, token: str) -> Principal:
        """``verify`` without blocking the event loop when keys may come over the network."""
        if self._keys.may_block:
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def _checked_header(self, token: str) -> tuple[str, str | None]:
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenError("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt_errors.DecodeError as exc:
            raise TokenError(f"malformed token: {exc}") from exc
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise TokenError("unsigned token (alg none) refused")
        if alg not in self._algorithms:
            raise TokenError(
                f"algorithm {alg} not allowed (allowed: {', '.join(self._algorithms)})"
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise TokenError("kid header must be a string")
        return alg, kid

    def _decoded(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": list(REQUIRED_CLAIMS), "enforce_minimum_key_length": True},
            )
        except jwt_errors.MissingRequiredClaimError as exc:
            raise TokenError(f"missing claim {exc.claim}") from exc
        except jwt_errors.PyJWTError as exc:
            raise TokenError(_reason(exc)) from exc


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Our claims (``sub``, ``tenant``, ``roles``) as a principal; shapes checked strictly."""
    subject, tenant, roles = claims.get("sub"), claims.get("tenant"), claims.get("roles")
    if not isinstance(subject, str) or not subject:
        raise TokenError("claim sub must be a non-empty string")
    if not isinstance(tenant, str) or not tenant:
        raise TokenError("claim tenant must be a non-empty string")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise TokenError("claim roles must be a list of strings")
    # Roles of other applications may share the token: ignore them, but demand one of ours.
    known = frozenset(Role(r) for r in roles if r in _ROLE_VALUES)
    if not known:
        raise TokenError(f"no known role in claim roles (known: {', '.join(Role)})")
    jti = claims.get("jti")
    return Principal(subject, tenant, known, jti if isinstance(jti, str) else None)


def _reason(exc: Exception) -> str:
    for error_type, reason, with_detail in _REASONS:
        if isinstance(exc, error_type):
            return f"{reason}: {exc}" if with_detail else reason
    return f"invalid token: {exc}"


def _key_source(auth: AuthSettings, platform: PlatformSettings) -> KeySource:
    if auth.jwks_url is not None:
        return JwksKeys(
            auth.jwks_url,
            cache_s=auth.jwks_cache_s,
            cooldown_s=auth.jwks_refresh_cooldown_s,
            timeout_s=auth.jwks_timeout_s,
        )
    if auth.public_key_pem is not None:
        return StaticKeys(load_public_key(auth.public_key_pem))
    if auth.public_key_file is not None:
        return StaticKeys(load_public_key(_read_key_file(auth.public_key_file)))
    if platform.environment != "development":
        raise AuthConfigurationError(
            "no token verification key in production: set NAERVAER_AUTH_JWKS_URL, "
            "NAERVAER_AUTH_PUBLIC_KEY_PEM or NAERVAER_AUTH_PUBLIC_KEY_FILE"
        )
    if DEV_ALGORITHM not in auth.algorithms:
        raise AuthConfigurationError(f"the dev key signs {DEV_ALGORITHM}; allow it in algorithms")
    dev_key = ensure_dev_key(platform.data_dir)
    return StaticKeys(dev_key.public_key, kid=dev_key.kid)


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuthConfigurationError(f"cannot read public key file {path}: {exc}") from exc
