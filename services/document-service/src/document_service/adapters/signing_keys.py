"""The audit trail's Ed25519 signing key: its file, and the public keys kept with their validity.

Embedded default: a key file in the data folder, created once with mode 0600. Production: the
file named by ``NAERVAER_DOCUMENT_SIGNING_KEY_FILE`` (mounted from a secret store). Rotation: point
that setting at a new key and restart every replica; the first entry the new key signs registers
it (``not_before``) and retires the previous key (``not_after``), whose entries still verify.
"""

from __future__ import annotations

import logging
import os
import stat
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.adapters.sql import insert_or_ignore
from document_service.adapters.tables import signing_keys
from naervaer.dossier.canonical import b64url, from_b64url
from naervaer.dossier.keys import KeyRing, PublicKey, key_id_of, raw_public_key, sign

DEFAULT_KEY_FILE = "document-audit-signing-key.pem"
_log = logging.getLogger(__name__)


class SigningKeyError(RuntimeError):
    """The signing key is missing or unusable: the service must not start."""


@dataclass(frozen=True)
class AuditSigner:
    """The private key that seals audit entries and dossier manifests."""

    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return raw_public_key(self.private_key.public_key())

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    def sign(self, message: bytes) -> str:
        return sign(self.private_key, message)


def load_signer(path: Path) -> AuditSigner:
    """The Ed25519 private key in the PEM file at ``path``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} does not hold an Ed25519 private key")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        _log.warning("audit signing key %s is readable by others; chmod 600 it", path)
    return AuditSigner(key)


def ensure_key_file(path: Path) -> Path:
    """Create the embedded default's key file once (0600); an existing one is never replaced."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Written privately, then hard-linked into place: the link fails if another process won
    # the race, so the key is never overwritten nor seen half-written.
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
    return path


class KeyRegistry:
    """The public keys that have signed, with validity periods (table ``signing_keys``)."""

    def __init__(self, signer: AuditSigner) -> None:
        self._signer = signer
        self._registered = False
        # The transaction that inserted the key row, until another one finds the row: only
        # then is it known to be committed. A transaction sees its own insert, and one that
        # appends twice (a consumer's batch) and then rolls back would otherwise leave this
        # process sure of a row that is gone; the next process would register the key anew,
        # later than the entries it had signed, and the chain would fail to verify.
        self._inserted_by: object | None = None

    async def ensure(self, tx: AsyncConnection, now: datetime) -> None:
        """Register the signer's key (in ``tx``) before it signs; a new key retires the old."""
        if self._registered:
            return
        key_id = self._signer.key_id
        found = await tx.execute(
            select(signing_keys.c.key_id).where(signing_keys.c.key_id == key_id)
        )
        if found.first() is not None:
            if tx.get_transaction() is not self._inserted_by:
                self._registered = True  # committed by an earlier transaction: look no more
            return
        inserted = await tx.execute(
            insert_or_ignore(
                tx,
                signing_keys,
                key_id=key_id,
                algorithm="EdDSA",
                public_key=b64url(self._signer.public_raw),
                not_before=now,
                not_after=None,
            )
        )
        if inserted.rowcount == 1:
            self._inserted_by = tx.get_transaction()
            await tx.execute(
                update(signing_keys)
                .where(signing_keys.c.key_id != key_id, signing_keys.c.not_after.is_(None))
                .values(not_after=now)
            )

    async def ring(self, conn: AsyncConnection) -> KeyRing:
        rows = (await conn.execute(select(signing_keys))).all()
        return KeyRing(
            PublicKey(from_b64url(row.public_key), row.not_before, row.not_after) for row in rows
        )
