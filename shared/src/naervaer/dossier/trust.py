"""Where ``naervaer verify`` gets the public key it trusts: a file, or the service's key URL."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from naervaer.dossier.keys import KeyRing, load_key_ring

MAX_KEYS_BYTES = 1024 * 1024


def load_trusted_keys(source: str, *, timeout_s: float = 10.0) -> KeyRing:
    """Keys from a PEM or keys-JSON file, or from ``http(s)://…/v1/audit/keys``.

    Raises ``ValueError`` with a reason a person can act on.
    """
    if source.startswith(("http://", "https://")):
        text = _fetch(source, timeout_s)
    else:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read {source}: {exc.strerror or exc}") from exc
    ring = load_key_ring(text)
    if not len(ring):
        raise ValueError(f"{source} holds no public key")
    return ring


def _fetch(url: str, timeout_s: float) -> str:
    # Only http(s) reaches here (see load_trusted_keys): no file:// or other schemes.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return str(response.read(MAX_KEYS_BYTES).decode("utf-8"))
    except (urllib.error.URLError, TimeoutError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot fetch keys from {url}: {exc}") from exc
