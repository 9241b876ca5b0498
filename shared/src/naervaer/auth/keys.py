"""Where verification keys come from: one static public key, or an identity provider's JWKS.

A key source answers "which key verifies a token with this ``kid`` and ``alg``?" with a
``PyJWK`` whose algorithm is bound to it, so the token header can never pick a different
algorithm for the key than the one the key is meant for.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt import PyJWK, PyJWKClient
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWKSetError

from naervaer.auth.errors import AuthConfigurationError, KeysUnavailable, TokenError

PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

MIN_RSA_BITS = 2048
_CURVE_ALGORITHM = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


class KeySource(Protocol):
    """Resolves the verification key of a token."""

    @property
    def may_block(self) -> bool:
        """True when ``key_for`` may do network I/O (run it off the event loop)."""
        ...

    def key_for(self, kid: str | None, alg: str) -> PyJWK: ...


def load_public_key(pem: str | bytes) -> PublicKey:
    """An EC or RSA (>= 2048 bit) public key from a PEM public key or X.509 certificate."""
    raw = pem.encode() if isinstance(pem, str) else pem
    raw = raw.replace(b"\\n", b"\n").strip()  # env vars often carry escaped newlines
    try:
        if b"BEGIN CERTIFICATE" in raw:
            key: Any = x509.load_pem_x509_certificate(raw).public_key()
        else:
            key = serialization.load_pem_public_key(raw)
    except ValueError as exc:
        raise AuthConfigurationError(f"not a PEM public key or certificate: {exc}") from exc
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_BITS:
        raise AuthConfigurationError(f"RSA key of {key.key_size} bits; need {MIN_RSA_BITS}+")
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise AuthConfigurationError(f"unsupported key type {type(key).__name__}: use EC or RSA")
    return key


def public_jwk(key: PublicKey) -> dict[str, Any]:
    """The public JWK (RFC 7517) of ``key``, without kid/alg."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return dict(ECAlgorithm.to_jwk(key, as_dict=True))
    return dict(RSAAlgorithm.to_jwk(key, as_dict=True))


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url): a kid derived from the key itself."""
    required = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def algorithm_fits(key: PublicKey, alg: str) -> bool:
    """Whether ``alg`` is meant for ``key``: the curve fixes ESxxx, RSA keys take RSxxx."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return _CURVE_ALGORITHM.get(key.curve.name) == alg
    return alg.startswith("RS")


class StaticKeys:
    """One configured public key (PEM or the dev key); optionally pinned to a kid."""

    may_block = False

    def __init__(self, key: PublicKey, *, kid: str | None = None) -> None:
        self._key = key
        self._jwk = public_jwk(key)
        self._kid = kid
        # Parsing the JWK into a key object is a third of a token's verification: do it once
        # per algorithm. The key never changes, so a cached PyJWK verifies exactly the same.
        self._parsed: dict[str, PyJWK] = {}

    def key_for(self, kid: str | None, alg: str) -> PyJWK:
        # A pinned kid must match; a kid-less key accepts any (IdPs with one key often omit it).
        if self._kid is not None and kid is not None and kid != self._kid:
            raise TokenError(f"unknown signing key (kid {kid!r})")
        if not algorithm_fits(self._key, alg):
            raise TokenError(f"algorithm {alg} does not match the configured key")
        parsed = self._parsed.get(alg)
        if parsed is None:
            parsed = self._parsed[alg] = PyJWK(self._jwk, algorithm=alg)
        return parsed


class JwksKeys:
    """Keys of an identity provider's JWKS endpoint, cached, refetched on an unknown kid.

    Rotation: the provider publishes the new key before signing with it; a token with a kid
    not in the cache forces one refetch (at most once per cooldown); a removed key stops
    verifying once the cached set expires.
    """

    may_block = True

    def __init__(self, url: str, *, cache_s: float, cooldown_s: float, timeout_s: float) -> None:
        self._client = PyJWKClient(
            url,
            cache_jwk_set=True,
            lifespan=cache_s,
            cooldown_duration=cooldown_s,
            timeout=timeout_s,
        )

    def key_for(self, kid: str | None, alg: str) -> PyJWK:
        if not kid:
            raise TokenError("token header has no kid; a kid is required with a JWKS")
        try:
            jwk = self._client.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            raise KeysUnavailable(f"JWKS endpoint unreachable: {exc}") from exc
        except PyJWKSetError as exc:
            raise KeysUnavailable(f"JWKS endpoint returned no usable keys: {exc}") from exc
        except PyJWKClientError as exc:
            raise TokenError(f"unknown signing key (kid {kid!r})") from exc
        if jwk.algorithm_name != alg:
            raise TokenError(f"algorithm {alg} does not match key {kid!r} ({jwk.algorithm_name})")
        return jwk
