"""The key vault: one data key per employee (nøkkel per arbeidstaker), wrapped by a master key.

Every service reads the same vault (its own schema ``keyvault`` in the platform database, or
``keyvault.db`` in the embedded data folder; in production point ``NAERVAER_KEYVAULT_URL`` at a
store of its own). A data key is stored wrapped (AES-256-GCM under the master key, the key id as
associated data) next to a keyed hash of (tenant, employee id) — never the id itself. Shredding
deletes the wrapped key and the hash: from then on every value sealed with it is unreadable and
nothing in the vault links the key id to a person. A new case of the same employee later gets a
new key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.privacy.aging import tell

metadata = MetaData()
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("tenant", String(200), nullable=False),
    Column("subject_ref", String(64), unique=True, nullable=True),
    Column("wrapped_key", LargeBinary, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("shredded_at", DateTime(timezone=True), nullable=True),
)
LIVE_KEY_TTL_S = 30.0
_INSTALL_LOCK = 7_340_001  # pg_advisory_xact_lock id: one installer at a time


async def install_tables(engine: AsyncEngine, schema: str | None) -> None:
    """Create the vault's table where it is missing (safe from several processes at once)."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_INSTALL_LOCK})"))
            if schema:
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(metadata.create_all, checkfirst=True)


@dataclass(frozen=True)
class SubjectKey:
    key_id: str
    key: bytes


class KeyVault:
    def __init__(self, engine: AsyncEngine, master_key: bytes, *, schema: str | None) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key must be 32 bytes (AES-256)")
        self._engine = engine
        # Each vault operation is one statement: on PostgreSQL it runs on its own, in
        # autocommit, one round trip instead of three (BEGIN, the statement, COMMIT or
        # ROLLBACK): opening a case asks the vault twice.
        self._single = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._master = AESGCM(master_key)
        self._pepper = hmac.digest(master_key, b"naervaer subject reference", "sha256")
        self._schema = schema
        # Live keys by subject, briefly: an append should not cost a vault query. A shred in
        # this process drops the entry at once; other processes' entries age out, and one
        # older than it is trusted is dropped (``naervaer.privacy.aging``), so the cache holds
        # the employees appended for lately, not every one since the process started.
        self._live_cache: OrderedDict[str, tuple[SubjectKey, float]] = OrderedDict()

    async def install(self) -> None:
        await install_tables(self._engine, self._schema)

    async def dispose(self) -> None:
        await self._engine.dispose()

    def subject_ref(self, tenant: str, subject_id: str) -> str:
        """A keyed hash of the employee: finds their key without storing who they are."""
        message = f"{tenant}\0{subject_id}".encode()
        return hmac.new(self._pepper, message, hashlib.sha256).hexdigest()

    async def key_for(self, tenant: str, subject_id: str) -> SubjectKey:
        """The employee's live key, made on first use."""
        ref = self.subject_ref(tenant, subject_id)
        cached = self._live_cache.get(ref)
        if cached is not None and time.monotonic() - cached[1] < LIVE_KEY_TTL_S:
            return cached[0]
        found = await self._live(ref)
        if found is not None:
            tell(self._live_cache, ref, found, time.monotonic(), LIVE_KEY_TTL_S)
            return found
        key_id, key = uuid.uuid4().hex, AESGCM.generate_key(bit_length=256)
        try:
            async with self._single.begin() as conn:
                await conn.execute(
                    subject_keys.insert().values(
                        key_id=key_id,
                        tenant=tenant,
                        subject_ref=ref,
                        wrapped_key=self._wrap(key_id, key),
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:  # another writer made it first: use theirs
            found = await self._live(ref)
            if found is None:
                raise
            return found
        return SubjectKey(key_id, key)

    async def live_key_id(self, tenant: str, subject_id: str) -> str | None:
        found = await self._live(self.subject_ref(tenant, subject_id))
        return None if found is None else found.key_id

    async def keys(self, key_ids: Iterable[str]) -> Mapping[str, bytes | None]:
        """Each key id's key; None for a destroyed (or unknown) key."""
        wanted = sorted(set(key_ids))
        async with self._single.connect() as conn:
            rows = (
                await conn.execute(
                    select(subject_keys.c.key_id, subject_keys.c.wrapped_key).where(
                        subject_keys.c.key_id.in_(wanted)
                    )
                )
            ).all()
        found = {row.key_id: row.wrapped_key for row in rows}
        return {
            key_id: None if found.get(key_id) is None else self._unwrap(key_id, found[key_id])
            for key_id in wanted
        }

    async def shred(self, key_id: str) -> None:
        """Destroy the key (idempotent): its sealed values become unreadable for good."""
        self._live_cache = OrderedDict(
            (ref, entry) for ref, entry in self._live_cache.items() if entry[0].key_id != key_id
        )
        async with self._single.begin() as conn:
            await conn.execute(
                update(subject_keys)
                .where(subject_keys.c.key_id == key_id, subject_keys.c.shredded_at.is_(None))
                .values(wrapped_key=None, subject_ref=None, shredded_at=datetime.now(UTC))
            )

    async def _live(self, ref: str) -> SubjectKey | None:
        async with self._single.connect() as conn:
            row = (
                await conn.execute(
                    select(subject_keys.c.key_id, subject_keys.c.wrapped_key).where(
                        subject_keys.c.subject_ref == ref
                    )
                )
            ).first()
        if row is None or row.wrapped_key is None:
            return None
        return SubjectKey(row.key_id, self._unwrap(row.key_id, row.wrapped_key))

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._master.encrypt(nonce, key, key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
