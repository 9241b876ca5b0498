"""A summary row's absence (``absence``): the segments as JSON, in the form the statistics
and the case view read back (``Segment.from_json``)."""

from __future__ import annotations

import json
from datetime import date

from case_service.app.summary_days import Segment, segments_json

SEGMENTS = (
    Segment(date(2026, 1, 5), date(2026, 1, 20), "sick_note", 100),
    Segment(date(2026, 1, 21), date(2026, 2, 1), "sick_note", 40, pending=True),
    Segment(date(2026, 2, 9), date(2026, 2, 11), "self_certification", 100),
)


def test_the_segments_are_written_as_objects_of_iso_dates() -> None:
    assert json.loads(segments_json(SEGMENTS)) == [
        {"start": "2026-01-05", "end": "2026-01-20", "source": "sick_note", "grade": 100,
         "pending": False},
        {"start": "2026-01-21", "end": "2026-02-01", "source": "sick_note", "grade": 40,
         "pending": True},
        {"start": "2026-02-09", "end": "2026-02-11", "source": "self_certification",
         "grade": 100, "pending": False},
    ]  # fmt: skip


def test_they_read_back_as_the_same_segments() -> None:
    assert tuple(map(Segment.from_json, json.loads(segments_json(SEGMENTS)))) == SEGMENTS
    assert segments_json(()) == "[]"
