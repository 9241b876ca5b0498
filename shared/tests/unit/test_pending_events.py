"""An append's payloads are serialised once, to JSON text the database parses as ``jsonb``:
the same values as the standard library's text, whichever serialiser wrote it."""

from __future__ import annotations

import json
import math
from typing import Any

from pydantic import BaseModel

from naervaer.eventstore.model import NewEvent, pending_events


class SickNoteReceived(BaseModel):
    case_id: str
    grade: int
    note: str | None
    periods: list[dict[str, Any]]


FLAT = {"case_id": "c-1", "grade": 60, "ratio": 0.6, "note": 'Sykmeldt ✓ "gradert"', "x": None}
NESTED = {"periods": [{"from": "2026-01-05"}], 7: "a non-str key"}


def test_every_payload_reads_back_as_the_standard_librarys_text_would() -> None:
    model = SickNoteReceived(case_id="c-1", grade=100, note="æøå", periods=[{"from": "x"}])
    flat, nested, typed = pending_events(
        [NewEvent("a", FLAT), NewEvent("b", NESTED), NewEvent("c", model)]
    )

    assert json.loads(flat.data_json) == json.loads(json.dumps(FLAT)) == flat.data
    assert json.loads(nested.data_json) == json.loads(json.dumps(NESTED)) == nested.data
    assert json.loads(typed.data_json) == model.model_dump(mode="json") == typed.data
    assert nested.plain is None  # not flat: the envelope parses the text back


def test_nan_is_written_for_the_database_to_refuse_not_turned_into_null() -> None:
    (pending,) = pending_events([NewEvent("a", {"grade": math.nan})])

    assert pending.data_json.replace(" ", "") == '{"grade":NaN}'
