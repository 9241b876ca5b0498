"""Caches of keys that age out: each entry with when it was told, the oldest first.

A cache that only ever adds grows with every employee a process has met; a long-running
service should hold the keys of those it met lately (issue 8, thirty-eighth round).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TypeVar

V = TypeVar("V")


def tell(
    entries: OrderedDict[str, tuple[V, float]], key: str, value: V, now: float, keep_s: float
) -> None:
    """Set ``key``'s entry to ``value``, told at ``now``, and drop every entry told more than
    ``keep_s`` before it. Every entry is told here, on a clock that does not go back, so the
    oldest are first and the dropping stops at the first one kept (at worst the one just told).
    """
    if keep_s < 0:
        raise ValueError("keep_s must not be negative")
    entries[key] = (value, now)
    entries.move_to_end(key)
    oldest = now - keep_s
    while entries[next(iter(entries))][1] < oldest:
        entries.popitem(last=False)
