"""The timeline digest: what a case's last write left in its obligation rows and timers.

The case row keeps it as ``'<obligations>:<timers>'``; nothing but this projection writes
those rows (the scheduler only marks timers fired, which the timer sync leaves alone; a
reassignment changes the rows' manager and clears the obligations part), so what the digest
says is in the tables is there. A recomputation compares its rows and timers with it and
writes only what differs (issue 8: most events change an obligation or two of thirteen, and
rewriting all of them and every wanted timer was a sixth of the live consumer's CPU in W6):

- obligations: a hash of the case's own values (its id, tenant, manager, unit and employee,
  the same in every row) and the kinds in order, then one hash per row of the obligation's
  values. Same head: only the rows whose hash differs are replaced (by case and kind); another
  head (other kinds, a reassignment), or no digest: all of them.
- timers: one hash per wanted timer (its key and fire date), sorted. Only those not there
  before are inserted; the unfired unwanted ones are deleted only if some timer wanted before
  is not wanted now (else none can be there). No digest: the full sync.

An item is hashed from the ``repr`` of its values (str, int, bool, date, None and an enum's
value: exact, and a fraction of what JSON cost), 64 bits each, and the hashes of the
obligations and timers seen last are kept (two memos). A row's hash leaves out the case's
values on purpose (issue 8, next step 25): the open obligations of different cases are often
equal (the same rule, state and due date), so the items to remember grow with the calendar
more than with the cases (a fulfilled or waived one names its event: one per case). With the
case's values in every row, W4's 2 000 cases cycled through ~50 000 items, three times what
the one memo held, and nearly every lookup missed. The head is the case's own and is hashed
unkept, so the memos hold nothing of a case (an id, an employee, a manager): an erasure has
nothing to forget here. The obligations part of a digest of an earlier form matches nothing
(the first recomputation writes every row, as it would have); the timers' part is hashed as
it was.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from deadline_service.domain.timeline import Obligation

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


def compare(
    was: str | None,
    case: tuple[Any, ...],
    found: Sequence[Obligation],
    wanted: dict[TimerKey, date],
    row_of: Callable[[Obligation], Row],
) -> TimelineChange:
    """The digest of the obligations ``found`` and the timers ``wanted``, and what differs
    from ``was`` (the case's). A row is ``row_of`` its obligation: its other values are
    ``case``'s, the same in every row. Only the rows to write are built (most events change
    none of a case's thirteen)."""
    row_hashes = [_obligation_hash(obligation) for obligation in found]
    head = _hash((*case, *[str(obligation.kind) for obligation in found]))
    timer_hashes = {key: _timer_hash((*key, fire_on)) for key, fire_on in wanted.items()}
    obligations_part = _SEP.join([head, *row_hashes])
    timers_part = _SEP.join(sorted(timer_hashes.values()))
    digest = f"{obligations_part}:{timers_part}"
    if digest == was:  # the same rows and timers (what most events leave): nothing to write
        return TimelineChange(digest, None, False, None, {}, False)
    old_obligations, old_timers = _split(was)
    changed, every = _changed(old_obligations, head, row_hashes, found)
    obligations = None if changed is None else [row_of(obligation) for obligation in changed]
    timers, new, stale = _changed_timers(old_timers, timer_hashes, wanted)
    return TimelineChange(digest, obligations, every, timers, new, stale)


def without_obligations(digest: str | None) -> str:
    """The digest once the obligation rows changed behind it (a reassignment): the next
    recomputation then rewrites them, whatever it finds."""
    return ":" + (digest or "").partition(":")[2]


def _changed(
    old: list[str] | None, head: str, hashes: list[str], found: Sequence[Obligation]
) -> tuple[Sequence[Obligation] | None, bool]:
    """The obligations whose rows to write, and whether they replace all of the case's."""
    if old is None or not old or old[0] != head or len(old) != len(hashes) + 1:
        return found, True  # unknown before, another head: replace them all
    changed = [o for o, h, before in zip(found, hashes, old[1:], strict=True) if h != before]
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


@functools.lru_cache(maxsize=32_768)  # about 11 MiB (tracemalloc: ~370 B an entry)
def _obligation_hash(obligation: Obligation) -> str:
    # Kept by the tuple, whose equal is its values' equal: the values of one position are of
    # one type (str, date, bool or None; an enum, or its value, hashed alike), never True
    # beside 1 or 1 beside 1.0.
    return _hash(tuple([v.value if isinstance(v, Enum) else v for v in obligation]))


@functools.lru_cache(maxsize=16_384)  # about 5 MiB
def _timer_hash(timer: tuple[str, str, date, date]) -> str:
    # Plain strings already (``domain.timeline.due_timers``): hashed as they are.
    return _hash(timer)


def _hash(values: tuple[Any, ...]) -> str:
    raw = hashlib.blake2b(repr(values).encode(), digest_size=8).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
