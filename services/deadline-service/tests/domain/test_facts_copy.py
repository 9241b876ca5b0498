"""``CaseFacts.copy``: the facts kept folded between batches (``adapters.folded``) are folded
on only as copies, so a copy must be equal and folding more into it must change nothing of
the original — every kind of change ``record`` makes, at every point of a case."""

from __future__ import annotations

import pytest

from deadline_service.domain.facts import fold, record

from ..builders import CaseScript


def _eventful_case() -> CaseScript:
    """A case whose events change every part of the facts, most of them in place."""
    case = CaseScript("2025-03-03")
    first = case.note("2025-03-03", "2025-03-20", note_id="n1")
    case.extend("n1", "2025-04-10")
    case.grading("n1", "2025-03-24", 50)
    case.extend("n1", "2025-04-30")
    case.note("2025-05-01", "2025-05-31", grade=60, note_id="n2")
    case.correct("n2", "2025-05-01", "2025-06-15", 40)
    case.returned("2025-06-16", 50)
    case.plan("2025-03-20")
    case.share(1, "doctor", "2025-03-21")
    case.request_meeting(1, "employee", "2025-03-25")
    case.schedule_meeting(1, "m1", "2025-04-01")
    case.request_meeting(1, "manager", "2025-03-26")
    case.schedule_meeting(2, "m2", "2025-06-01")
    case.cancel_meeting(2, "m2")
    case.hold_meeting(1, "2025-04-01")
    case.hold_meeting(1, "2025-04-02", meeting_id="m1b")
    case.meeting_exception("2025-06-02")
    case.assess("2025-05-20", "met")
    case.aap("2025-08-01")
    case.waive("dialogue_meeting_2", "2025-06-03")
    case.note("2025-07-01", "2025-07-10", note_id="n3")
    case.cancel("n3")
    case.close("2025-09-01")
    assert first
    return case


@pytest.mark.parametrize("cut", range(len(_eventful_case().events) + 1))
def test_folding_on_from_a_copy_changes_nothing_of_the_original(cut: int) -> None:
    events = _eventful_case().events
    original = fold("c-1", events[:cut])
    copy = original.copy()
    assert copy == original
    for event in events[cut:]:
        record(copy, event)
    assert original == fold("c-1", events[:cut])  # untouched
    assert copy == fold("c-1", events)  # and the copy folded on as the whole would
