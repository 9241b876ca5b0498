"""Fresh event ids (hendelses-id) in bulk: time-ordered (version 7) UUIDs, RFC 9562, from one
read of the OS's random source per append.

Version 7 rather than random version 4: every id lands in the ``events.event_id`` unique
index, and random ids scatter those inserts over the whole index (a page read and dirtied per
event once it outgrows the cache), where ids that grow with time append at its right edge.
Measured on a 500-event append: 21.8 → 17.0 µs of server time per event (W2). An id tells the
millisecond its event was made, which the envelope's ``time`` tells anyway; to everyone else
it is the same opaque UUID (stored ids of either version stay valid side by side).

``uuid.uuid4()`` (and the ``uuid7`` of later Pythons) reads ``os.urandom`` once per id and
builds each ``UUID`` through its validating ``__init__``; for a 500-event append that was a
sixth of the store's Python time. Here one read serves the whole batch.
"""

from __future__ import annotations

import os
import time
from uuid import UUID, SafeUUID

# RFC 9562 version 7: 48-bit Unix milliseconds, version 7, 12 random bits, the RFC 4122 variant
# (binary 10), 62 random bits.
_VERSION = 7 << 76
_VARIANT = 0b10 << 62
_RAND_A = 0xFFF << 64
_RAND_B = (1 << 62) - 1


def new_event_ids(count: int) -> list[UUID]:
    """``count`` fresh time-ordered UUIDs (version 7) of this millisecond, from one
    ``os.urandom`` call."""
    stamp = (time.time_ns() // 1_000_000) << 80 | _VERSION | _VARIANT
    raw = os.urandom(10 * count)
    from_bytes = int.from_bytes
    return [
        _uuid(stamp | ((random << 2) & _RAND_A) | (random & _RAND_B))
        for random in (from_bytes(raw[at : at + 10]) for at in range(0, 10 * count, 10))
    ]


def _uuid(value: int) -> UUID:
    # What CPython's own ``UUID._from_int`` (3.14) does: the value is known to be valid, so
    # skip ``__init__``'s argument checks; ``UUID`` forbids attribute assignment, hence
    # ``object.__setattr__``.
    uuid = object.__new__(UUID)
    object.__setattr__(uuid, "int", value)
    object.__setattr__(uuid, "is_safe", SafeUUID.unknown)
    return uuid
