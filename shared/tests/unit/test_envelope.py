"""The CloudEvents envelope: its attribute names and its JSON round trip."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE, SPEC_VERSION, Envelope

# CloudEvents 1.0: attribute names are lower-case ASCII letters and digits only.
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
REQUIRED_CONTEXT = {"specversion", "id", "source", "type"}
NAERVAER_EXTENSIONS = {"tenant", "streamid", "streamversion", "globalposition", "schemaversion"}


def envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "id": uuid.UUID("8f9c2a9e-3c57-4f0e-9a43-3f1c5f0f6a11"),
        "source": "/case-service",
        "type": "case.opened",
        "subject": "case-1",
        "time": datetime(2026, 1, 5, 8, 30, tzinfo=UTC),
        "dataschema": "schemas/case.opened/v1.json",
        "data": {"case_id": "case-1", "first_absence_day": "2026-01-05", "grade": 100},
        "tenant": "acme",
        "streamid": "case-1",
        "streamversion": 1,
        "globalposition": 7,
        "correlationid": "corr-1",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    }
    return Envelope.model_validate({**fields, **overrides})


def test_json_round_trip_keeps_every_attribute() -> None:
    original = envelope()
    assert Envelope.from_json_bytes(original.to_json_bytes()) == original


def test_round_trip_keeps_the_time_zone_aware_utc_time() -> None:
    restored = Envelope.from_json_bytes(envelope().to_json_bytes())
    assert restored.time == datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    assert restored.time.utcoffset() is not None


def test_every_attribute_name_is_a_valid_cloudevents_name() -> None:
    names = set(Envelope.model_fields)
    assert [name for name in names if not ATTRIBUTE_NAME.match(name)] == []
    assert names >= REQUIRED_CONTEXT | NAERVAER_EXTENSIONS


def test_structured_mode_json_carries_the_attributes_at_the_top_level() -> None:
    document = json.loads(envelope().to_json_bytes())
    assert document["specversion"] == SPEC_VERSION == "1.0"
    assert document["datacontenttype"] == "application/json"
    assert document["data"]["grade"] == 100
    assert document.keys() >= REQUIRED_CONTEXT
    assert CLOUDEVENTS_CONTENT_TYPE == "application/cloudevents+json"


def test_unset_optional_attributes_are_left_out_not_sent_as_null() -> None:
    document = json.loads(envelope(globalposition=None, correlationid=None).to_json_bytes())
    assert "globalposition" not in document
    assert "causationid" not in document
    assert None not in document.values()


@pytest.mark.parametrize(
    "bad",
    [
        {"streamversion": 0},
        {"globalposition": 0},
        {"schemaversion": 0},
        {"unknownattribute": "x"},
    ],
    ids=["streamversion<1", "globalposition<1", "schemaversion<1", "unknown attribute"],
)
def test_invalid_envelopes_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        envelope(**bad)


def test_envelope_is_immutable() -> None:
    with pytest.raises(ValidationError):
        envelope().tenant = "other"  # type: ignore[misc]
