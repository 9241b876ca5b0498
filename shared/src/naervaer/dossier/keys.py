"""Ed25519 signing keys of the audit trail (revisjonsspor), with their validity periods.

A key's id is its RFC 7638 JWK thumbprint, so anyone can recompute it from the public key. When
the service's key is rotated the old public key stays published with ``not_after`` set: entries
it signed before then still verify, and nothing it signs later does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from naervaer.dossier.canonical import b64url, canonical_bytes, from_b64url, sha256_hex

ALGORITHM = "EdDSA"
_EARLIEST = datetime.min.replace(tzinfo=UTC)
CURVE = "Ed25519"


def key_id_of(raw_public_key: bytes) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key (base64url SHA-256)."""
    members = {"crv": CURVE, "kty": "OKP", "x": b64url(raw_public_key)}
    return b64url(bytes.fromhex(sha256_hex(canonical_bytes(members))))


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class PublicKey:
    """A public key of the audit trail and when it was allowed to sign."""

    raw: bytes
    not_before: datetime | None = None
    not_after: datetime | None = None  # None: still the active key

    @property
    def key_id(self) -> str:
        return key_id_of(self.raw)

    def valid_at(self, at: datetime) -> bool:
        if self.not_before is not None and at < self.not_before:
            return False
        return self.not_after is None or at <= self.not_after

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def to_jwk(self) -> dict[str, Any]:
        """JWK (RFC 8037 OKP) plus the validity period and the PEM form, for humans and tools."""
        return {
            "kid": self.key_id,
            "kty": "OKP",
            "crv": CURVE,
            "alg": ALGORITHM,
            "use": "sig",
            "x": b64url(self.raw),
            "not_before": _iso(self.not_before),
            "not_after": _iso(self.not_after),
            "status": "active" if self.not_after is None else "retired",
            "pem": self.pem(),
        }

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> PublicKey:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != CURVE:
            raise ValueError(f"not an Ed25519 key: kty={jwk.get('kty')} crv={jwk.get('crv')}")
        key = cls(
            from_b64url(str(jwk["x"])),
            not_before=_parse_time(jwk.get("not_before")),
            not_after=_parse_time(jwk.get("not_after")),
        )
        if "kid" in jwk and jwk["kid"] != key.key_id:
            raise ValueError(f"kid {jwk['kid']} is not the thumbprint of its key")
        return key


class KeyRing:
    """Public keys by id; answers whether a signature is valid for a key at a time."""

    def __init__(self, keys: Iterable[PublicKey] = ()) -> None:
        self._keys = {key.key_id: key for key in keys}

    def __iter__(self) -> Iterator[PublicKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._keys

    def get(self, key_id: str) -> PublicKey | None:
        return self._keys.get(key_id)

    def merged(self, other: KeyRing) -> KeyRing:
        """This ring plus the keys of ``other`` it does not hold (this ring's copy wins)."""
        return KeyRing([*other._keys.values(), *self._keys.values()])

    def problem(self, key_id: str, message: bytes, signature: str, at: datetime) -> str | None:
        """Why ``signature`` (base64url) over ``message`` fails, or None when it is valid."""
        key = self._keys.get(key_id)
        if key is None:
            return f"signed with unknown key {key_id}"
        try:
            raw = from_b64url(signature)
        except ValueError:
            return "signature is not base64url"
        if not key.verifies(raw, message):
            return f"signature does not verify with key {key_id}"
        if not key.valid_at(at):
            return f"key {key_id} was not valid at {at.isoformat()}"
        return None

    def document(self) -> dict[str, Any]:
        """The JWKS-like document of ``GET /v1/audit/keys`` (oldest key first)."""
        ordered = sorted(self._keys.values(), key=lambda k: k.not_before or _EARLIEST)
        return {"keys": [key.to_jwk() for key in ordered]}


def sign(private_key: Ed25519PrivateKey, message: bytes) -> str:
    return b64url(private_key.sign(message))


def load_key_ring(text: str) -> KeyRing:
    """Keys from a PEM public key (valid at any time) or a keys document (``{"keys": […]}``)."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(stripped.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return KeyRing([PublicKey(raw_public_key(key))])
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise ValueError("neither a PEM public key nor a JSON keys document") from exc
    if isinstance(document, dict) and "keys" in document:
        return KeyRing(PublicKey.from_jwk(jwk) for jwk in document["keys"])
    if isinstance(document, dict):
        return KeyRing([PublicKey.from_jwk(document)])
    raise ValueError("a keys document is an object with a 'keys' list")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _parse_time(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"key validity {value} has no time zone")
    return moment.astimezone(UTC)
