"""The timeline digest: what a case's last write left in its obligation rows and timers.

The case row keeps it as ``'<obligations>:<timers>'``; nothing but this projection writes
those rows (the scheduler only marks timers fired, which the timer sync leaves alone; a
reassignment changes the rows' manager and clears the obligations part), so what the digest
says is in the tables is there. A recomputation compares its rows and timers with it and
writes only what differs (issue 8: most events change an obligation or two of thirteen, and
rewriting all of them and every wanted timer was a sixth of the live consumer's CPU in W6):

- obligations: a hash of the kinds in order, then one hash per row. Same kinds: only the rows
  whose hash differs are replaced (by case and kind); other kinds, or no digest: all of them.
- timers: one hash per wanted timer (its key and fire date), sorted. Only those not there
  before are inserted; the unfired unwanted ones are deleted only if some timer wanted before
  is not wanted now (else none can be there). No digest: the full sync.

An item is hashed from the ``repr`` of its values (str, int, bool, date, None: exact, and a
fraction of what JSON cost), 64 bits each, and the hashes of the items seen last are kept: a
case's unchanged rows and timers come again at every recomputation. A digest of an earlier
form matches nothing: the first recomputation writes everything, as it would have.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

TimerKey = tuple[str, str, date]  # kind, stage, due date
Row = dict[str, Any]
_SEP = "."


@dataclass(frozen=True)
class TimelineChange:
    """What a recomputation writes of the case's timeline, against the digest it found."""

    digest: str
    obligations: list[Row] | None  # the rows to write; None: none changed
    all_obligations: bool  # replace every row of the case (else the rows of these kinds)
    timers: dict[TimerKey, date] | None  # every wanted timer; None: none changed
    new_timers: dict[TimerKey, date]  # the wanted timers to insert
    stale_timers: bool  # a timer wanted before is not now: delete the unfired unwanted ones


def compare(was: str | None, rows: Sequence[Row], wanted: dict[TimerKey, date]) -> TimelineChange:
    """The digest of ``rows`` and ``wanted`` and what differs from ``was`` (the case's)."""
    row_hashes = [_hash(tuple(row.values())) for row in rows]
    kinds = _hash(tuple([row["kind"] for row in rows]))
    timer_hashes = {key: _hash((*key, fire_on)) for key, fire_on in wanted.items()}
    obligations_part = _SEP.join([kinds, *row_hashes])
    timers_part = _SEP.join(sorted(timer_hashes.values()))
    digest = f"{obligations_part}:{timers_part}"
    if digest == was:  # the same rows and timers (what most events leave): nothing to write
        return TimelineChange(digest, None, False, None, {}, False)
    old_obligations, old_timers = _split(was)
    obligations, every = _changed_rows(old_obligations, kinds, row_hashes, rows)
    timers, new, stale = _changed_timers(old_timers, timer_hashes, wanted)
    return TimelineChange(digest, obligations, every, timers, new, stale)


def without_obligations(digest: str | None) -> str:
    """The digest once the obligation rows changed behind it (a reassignment): the next
    recomputation then rewrites them, whatever it finds."""
    return ":" + (digest or "").partition(":")[2]


def _changed_rows(
    old: list[str] | None, kinds: str, hashes: list[str], rows: Sequence[Row]
) -> tuple[list[Row] | None, bool]:
    if old is None or not old or old[0] != kinds or len(old) != len(hashes) + 1:
        return list(rows), True  # unknown before, or other kinds: replace them all
    changed = [row for row, h, before in zip(rows, hashes, old[1:], strict=True) if h != before]
    return (changed or None), False


def _changed_timers(
    old: list[str] | None, hashes: dict[TimerKey, str], wanted: dict[TimerKey, date]
) -> tuple[dict[TimerKey, date] | None, dict[TimerKey, date], bool]:
    if old is None:  # unknown before: the full sync
        return dict(wanted), dict(wanted), True
    before = set(old)
    new = {key: wanted[key] for key, h in hashes.items() if h not in before}
    stale = not before <= set(hashes.values())
    if not new and not stale:
        return None, {}, False
    return dict(wanted), new, stale


def _split(digest: str | None) -> tuple[list[str] | None, list[str] | None]:
    """The obligations' and the timers' hashes in ``digest`` (None: not known)."""
    if digest is None:
        return None, None
    obligations, _, timers = digest.partition(":")
    return _items(obligations), _items(timers)


def _items(part: str) -> list[str]:
    return part.split(_SEP) if part else []


@functools.lru_cache(maxsize=16_384)  # about 5 MiB
def _hash(values: tuple[Any, ...]) -> str:
    # Kept by the tuple, whose equal is its repr's equal: the values of one position are of
    # one type (str, date, bool or None), never True beside 1 or 1 beside 1.0.
    raw = hashlib.blake2b(repr(values).encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
