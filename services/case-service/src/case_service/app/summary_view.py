"""What a summary says on a given day: the parts that depend on the date (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from case_service.app.summary_days import Segment
from case_service.app.summary_state import Adjustment, Meeting, SummaryState


@dataclass(frozen=True)
class SummaryToday:
    today: date
    days_absent_to_date: int
    open_adjustments: tuple[Adjustment, ...]
    adjustments_awaiting_evaluation: int


def summary_today(state: SummaryState, segments: Iterable[Segment], today: date) -> SummaryToday:
    adjustments = state.adjustments.values()
    return SummaryToday(
        today=today,
        days_absent_to_date=days_absent_to(segments, today),
        open_adjustments=tuple(open_adjustments(adjustments, today)),
        adjustments_awaiting_evaluation=sum(
            1 for a in adjustments if a.evaluated_on is None and a.ends_on < today
        ),
    )


def days_absent_to(segments: Iterable[Segment], today: date) -> int:
    """Absence days up to and including ``today`` (a note may already cover days ahead)."""
    return sum((min(s.end, today) - s.start).days + 1 for s in segments if s.start <= today)


def open_adjustments(adjustments: Iterable[Adjustment], today: date) -> list[Adjustment]:
    """Adjustments recorded and not yet evaluated that have not ended before ``today``."""
    open_ = [a for a in adjustments if a.evaluated_on is None and a.ends_on >= today]
    return sorted(open_, key=lambda a: (a.starts_on, a.adjustment_id))


def meetings_held(state: SummaryState) -> list[Meeting]:
    held = [m for m in state.meetings.values() if m.held_on is not None]
    return sorted(held, key=lambda m: (m.number, m.held_on or date.min, m.meeting_id))


def meetings_upcoming(state: SummaryState) -> list[Meeting]:
    """Scheduled, not held and not cancelled."""
    waiting = [m for m in state.meetings.values() if m.held_on is None and not m.cancelled]
    return sorted(waiting, key=lambda m: (m.number, m.meeting_id))
