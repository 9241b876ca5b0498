"""Opening the key vault the platform settings describe, with its master key."""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from naervaer.db import DatabaseTarget, create_engine, resolve_target
from naervaer.privacy.keyvault import KeyVault, install_tables
from naervaer.settings import PlatformSettings

DEV_MASTER_KEY = "master.key"


class MasterKeyMissing(RuntimeError):
    """Production needs NAERVAER_MASTER_KEY_FILE: a made-up key would lose every employee key."""


def vault_target(platform: PlatformSettings) -> DatabaseTarget:
    return resolve_target(
        "keyvault",
        service_url=platform.keyvault_url,
        platform_url=platform.database_url,
        data_dir=platform.data_dir,
    )


def open_vault(platform: PlatformSettings) -> KeyVault:
    """The vault on a pool as large as the service's own: commands that seal ask the vault
    for a key each (by design, see ``Sealer``), so under load it needs as many connections as
    the service has requests in flight — a smaller pool opens and closes its overflow
    connections on nearly every request."""
    target = vault_target(platform)
    engine = create_engine(
        target, pool_size=platform.db_pool_size, max_overflow=platform.db_max_overflow
    )
    return KeyVault(engine, master_key(platform), schema=target.schema)


async def install_vault(platform: PlatformSettings) -> None:
    """Create the vault's table (``naervaer migrate``): needs the database, not the master key."""
    target = vault_target(platform)
    engine = create_engine(target)
    try:
        await install_tables(engine, target.schema)
    finally:
        await engine.dispose()


def master_key(platform: PlatformSettings) -> bytes:
    """The configured master key; in development one kept in the data folder."""
    if platform.master_key_file is not None:
        return _read_key(platform.master_key_file)
    if platform.environment == "production":
        raise MasterKeyMissing("set NAERVAER_MASTER_KEY_FILE (32 bytes, raw or base64)")
    return _dev_key(platform.data_dir / DEV_MASTER_KEY)


def _read_key(path: Path) -> bytes:
    raw = path.read_bytes()
    if len(raw) == 32:
        return raw
    try:
        decoded = base64.b64decode(raw.strip(), validate=True)
    except binascii.Error:
        decoded = b""
    if len(decoded) != 32:
        raise ValueError(f"{path}: a master key is 32 bytes, raw or base64")
    return decoded


def _dev_key(path: Path) -> bytes:
    """Made once; several processes starting together agree (link is atomic and exclusive)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.write_bytes(base64.b64encode(os.urandom(32)))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return _read_key(path)
