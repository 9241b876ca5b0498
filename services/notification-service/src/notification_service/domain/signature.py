"""Signing webhook bodies, and the receiver's check (copy ``verify`` into your HR suite).

Every webhook request carries::

    X-Naervaer-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the tenant secret>
    X-Naervaer-Delivery-Id: <uuid, the same on every retry: store it and ignore repeats>
    X-Naervaer-Timestamp: <unix seconds of this attempt; also in the signed body as "timestamp">

Standard library only, so a receiver can use it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json

SIGNATURE_HEADER = "X-Naervaer-Signature"
DELIVERY_ID_HEADER = "X-Naervaer-Delivery-Id"
TIMESTAMP_HEADER = "X-Naervaer-Timestamp"
PREFIX = "sha256="


class SignatureInvalid(ValueError):
    """The request did not come from Nærvær with this secret, or is too old (a replay)."""


def sign(secret: str, body: bytes) -> str:
    """The ``X-Naervaer-Signature`` header value for ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(
    secret: str, body: bytes, signature: str | None, *, now: float, tolerance_s: float = 300
) -> dict[str, object]:
    """Check a received webhook; returns the parsed body or raises ``SignatureInvalid``.

    ``body`` must be the raw bytes as received (not re-serialised JSON); ``now`` is the
    receiver's clock in unix seconds. The signed ``timestamp`` must lie within
    ``tolerance_s`` of it, which stops an old captured request being replayed later.
    Deduplicate on ``X-Naervaer-Delivery-Id``: a retry after a lost answer repeats it.
    """
    if not signature or not hmac.compare_digest(sign(secret, body), signature):
        raise SignatureInvalid("signature does not match")
    payload = json.loads(body)
    timestamp = payload.get("timestamp") if isinstance(payload, dict) else None
    if not isinstance(timestamp, int | float) or abs(now - timestamp) > tolerance_s:
        raise SignatureInvalid("timestamp missing or outside the tolerance")
    return dict(payload)
