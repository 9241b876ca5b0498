"""Case events become canonical, content-addressed document versions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from document_service.domain.documents import SourceEvent, render, target_of
from naervaer.dossier.canonical import canonical_bytes, sha256_hex

AT = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def event(event_type: str, **data: Any) -> SourceEvent:
    return SourceEvent("e-1", event_type, AT, "acme", "c-1", {"case_id": "c-1", **data})


def test_the_same_event_renders_the_same_bytes_and_hash() -> None:
    minutes = event(
        "case.dialogue_meeting_held", meeting_id="m-1", meeting_number=1, minutes="Agreed."
    )
    target = target_of(minutes)
    assert target is not None
    first = render(minutes, target, version=1, previous=None)
    again = render(minutes, target, version=1, previous=None)
    assert first.content == again.content
    assert first.document_hash == sha256_hex(first.content)
    content = json.loads(first.content)
    assert canonical_bytes(content) == first.content
    assert content["produced_by"]["event_id"] == "e-1"
    assert content["title"] == "Minutes of dialogue meeting 1 (referat fra dialogmøte 1)"
    assert first.required_roles == ("employee", "manager")


def test_document_ids_are_stable_per_thing_and_tenant() -> None:
    held = target_of(event("case.dialogue_meeting_held", meeting_id="m-1"))
    other = target_of(event("case.dialogue_meeting_held", meeting_id="m-2"))
    plan = target_of(event("case.follow_up_plan_created"))
    revised = target_of(event("case.follow_up_plan_revised"))
    assert held
    assert other
    assert plan
    assert revised
    assert held.document_id("acme", "c-1") != other.document_id("acme", "c-1")
    assert plan.document_id("acme", "c-1") == revised.document_id("acme", "c-1")
    assert plan.document_id("acme", "c-1") != plan.document_id("beta", "c-1")
    assert target_of(event("case.sick_note_received")) is None


def test_an_evaluation_adds_to_the_recorded_adjustment() -> None:
    recorded = event("case.adjustment_recorded", adjustment_id="a-1", area="working_time")
    target = target_of(recorded)
    assert target is not None
    v1 = json.loads(render(recorded, target, version=1, previous=None).content)["body"]
    evaluated = event("case.adjustment_evaluated", adjustment_id="a-1", outcome="worked")
    v2 = render(evaluated, target, version=2, previous=v1)
    body = json.loads(v2.content)["body"]
    assert body["adjustment"]["area"] == "working_time"
    assert [e["outcome"] for e in body["evaluations"]] == ["worked"]
    assert v2.title == "Adjustment (tilrettelegging): working time"


def test_a_decision_completes_the_expert_assistance_application() -> None:
    asked = event("case.expert_assistance_requested", request_id="r-1", amount_nok=15000)
    target = target_of(asked)
    assert target is not None
    v1 = json.loads(render(asked, target, version=1, previous=None).content)["body"]
    assert v1["decision"] is None
    decided = event("case.expert_assistance_decided", request_id="r-1", approved=True)
    body = json.loads(render(decided, target, version=2, previous=v1).content)["body"]
    assert body["application"]["amount_nok"] == 15000
    assert body["decision"]["approved"] is True
