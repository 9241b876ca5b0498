"""The development signing key of a data folder and the tokens minted with it.

Development only: ``naervaer token`` mints bearer tokens with this key, and the services
verify with it when no identity provider is configured. Production never reads it.
"""

from __future__ import annotations

import logging
import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from naervaer.auth.keys import jwk_thumbprint, public_jwk
from naervaer.auth.principal import Role
from naervaer.auth.settings import DEFAULT_AUDIENCE, DEFAULT_ISSUER

DEV_KEY_FILE = "dev-signing-key.pem"
DEV_PUBLIC_KEY_FILE = "dev-signing-key.pub.pem"
DEV_ALGORITHM = "ES256"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DevKey:
    """The ES256 dev key pair; ``kid`` is its RFC 7638 thumbprint, so it needs no own file."""

    private_key: ec.EllipticCurvePrivateKey
    public_key: ec.EllipticCurvePublicKey
    kid: str
    path: Path

    @property
    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWK Set, e.g. for a dev ``/.well-known/jwks.json``."""
        jwk = {**public_jwk(self.public_key), "kid": self.kid, "alg": DEV_ALGORITHM, "use": "sig"}
        return {"keys": [jwk]}


def ensure_dev_key(data_dir: Path) -> DevKey:
    """The data folder's dev key, created (once, mode 0600) when missing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DEV_KEY_FILE
    if not path.exists():
        _create_key_file(path)
    _warn_if_readable_by_others(path)
    private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} does not hold an EC private key")
    public_key = private_key.public_key()
    key = DevKey(private_key, public_key, jwk_thumbprint(public_jwk(public_key)), path)
    _write_public_key(data_dir / DEV_PUBLIC_KEY_FILE, key.public_key_pem)
    return key


def mint_token(
    data_dir: Path,
    *,
    tenant: str,
    roles: str | Iterable[str],
    sub: str,
    ttl_s: int = 3600,
    extra_claims: Mapping[str, Any] | None = None,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
) -> str:
    """A signed dev bearer token for ``sub`` in ``tenant`` with ``roles`` (one or several)."""
    if not tenant or not sub:
        raise ValueError("tenant and sub must not be empty")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    key = ensure_dev_key(data_dir)
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "tenant": tenant,
        "roles": _role_names(roles),
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_s),
        "jti": uuid.uuid4().hex,
        # Last, so a developer can override any claim to try a failure case by hand.
        **(extra_claims or {}),
    }
    return jwt.encode(claims, key.private_key, algorithm=DEV_ALGORITHM, headers={"kid": key.kid})


def _role_names(roles: str | Iterable[str]) -> list[str]:
    names = [roles] if isinstance(roles, str) else list(roles)
    if not names:
        raise ValueError("at least one role is required")
    known = {role.value for role in Role}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; known: {sorted(known)}")
    return sorted(set(names))


def _create_key_file(path: Path) -> None:
    # Write a private temp file, then hard-link it into place: the link fails if another
    # process (or another service of the embedded default) won the race, so the key is
    # never overwritten and never seen half-written.
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def _write_public_key(path: Path, pem: str) -> None:
    if not path.exists() or path.read_text() != pem:
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(pem)
        tmp.replace(path)


def _warn_if_readable_by_others(path: Path) -> None:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        _log.warning("dev signing key %s is readable by others; chmod 600 it", path)
