"""Fewer and shorter garbage collections: for bulk work (a projection rebuild), for a
serving process's long-lived start-up objects, and for its requests and messages.

A rebuild allocates millions of short-lived objects (rows, envelopes, the fold's values) but
makes almost no reference cycles, so CPython's default first-generation threshold (700
allocations) runs the cycle collector over a thousand times a minute for nothing: measured at
~1.2 s of a 20 000-event rebuild, and 20-40 % more events/s with a higher threshold
(BENCHMARKS.md). Memory still goes back through reference counting; only cycles wait longer.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

BULK_THRESHOLDS = (50_000, 20, 100)
SERVING_THRESHOLDS = (10_000, 10, 10)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the block with ``BULK_THRESHOLDS``; the thresholds before are restored after it."""
    before = gc.get_threshold()
    gc.set_threshold(*BULK_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def freeze_start_up() -> None:
    """Move every object alive now (modules, the apps, their OpenAPI documents, pools) out of
    the collector's reach: a full collection of a serving process then scans only what came
    after start-up, so its pauses, which every request in flight waits through, stay short.
    The frozen objects were built to live as long as the process; freezing frees nothing
    later, so call it once, when the services are built."""
    gc.collect()  # what start-up left as garbage goes now, not into the frozen heap
    gc.freeze()


def collect_less_while_serving() -> None:
    """A serving process's first-generation threshold at ``SERVING_THRESHOLDS``, not 700.

    A W3 command or a consumed batch allocates thousands of short-lived containers, so at 700
    the collector ran several times per request over objects reference counting was about to
    free anyway: ~6 % of the case service's CPU per W3 command, with W6's peak resident sets
    unchanged (BENCHMARKS.md, eleventh round). Only cycles wait longer to be freed.
    """
    gc.set_threshold(*SERVING_THRESHOLDS)
