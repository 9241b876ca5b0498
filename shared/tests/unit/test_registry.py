"""Event types in the registry: registration rules and upcasting old payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from naervaer.envelope import Envelope
from naervaer.registry import EventRegistry, UnknownEventType


class SickNoteReceived(BaseModel):
    """A sick note (sykmelding) arrived. Schema v3: grade as a percentage, explicit period."""

    case_id: str
    period_start: date
    period_end: date
    grade_percent: int


def v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 held one "period" string "start/end"; v2 splits it.
    start, end = data.pop("period").split("/")
    return {**data, "period_start": start, "period_end": end}


def v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    # v2 held the grade as a fraction; v3 as a whole percentage.
    fraction = data.pop("grade")
    return {**data, "grade_percent": round(fraction * 100)}


V1 = {"case_id": "case-1", "period": "2026-01-05/2026-01-18", "grade": 0.5}
V2 = {"case_id": "case-1", "period_start": "2026-01-05", "period_end": "2026-01-18", "grade": 0.5}
CURRENT = SickNoteReceived(
    case_id="case-1",
    period_start=date(2026, 1, 5),
    period_end=date(2026, 1, 18),
    grade_percent=50,
)


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register(
        "case.sick_note_received",
        SickNoteReceived,
        version=3,
        upcasters={1: v1_to_v2, 2: v2_to_v3},
    )
    return registry


def envelope(data: dict[str, Any], schemaversion: int) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/case-service",
        type="case.sick_note_received",
        subject="case-1",
        time=datetime(2026, 1, 6, tzinfo=UTC),
        dataschema=f"schemas/case.sick_note_received/v{schemaversion}.json",
        data=data,
        tenant="acme",
        streamid="case-1",
        streamversion=2,
        schemaversion=schemaversion,
    )


def test_registered_type_is_found_with_its_version_docstring_and_schema_path(
    registry: EventRegistry,
) -> None:
    event_type = registry.get("case.sick_note_received")
    assert (event_type.model, event_type.version) == (SickNoteReceived, 3)
    assert event_type.description.startswith("A sick note (sykmelding) arrived.")
    assert event_type.schema_path == "schemas/case.sick_note_received/v3.json"
    assert "case.sick_note_received" in registry
    assert registry.type_of(CURRENT) is event_type


def test_registering_a_type_twice_is_refused(registry: EventRegistry) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(
            "case.sick_note_received",
            SickNoteReceived,
            version=3,
            upcasters={1: v1_to_v2, 2: v2_to_v3},
        )


def test_a_version_without_an_upcaster_from_every_older_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"no upcaster from schema version\(s\) \[2\]"):
        EventRegistry().register(
            "case.sick_note_received", SickNoteReceived, version=3, upcasters={1: v1_to_v2}
        )
    with pytest.raises(ValueError, match=r"\[1, 2\]"):
        EventRegistry().register("case.sick_note_received", SickNoteReceived, version=3)


def test_unknown_types_raise_unknown_event_type(registry: EventRegistry) -> None:
    with pytest.raises(UnknownEventType):
        registry.get("case.teleported")

    class Stray(BaseModel):
        pass

    with pytest.raises(UnknownEventType):
        registry.type_of(Stray())


@pytest.mark.parametrize(("version", "data"), [(1, V1), (2, V2)], ids=["v1", "v2"])
def test_old_payloads_are_upcast_through_the_chain_to_the_current_model(
    registry: EventRegistry, version: int, data: dict[str, Any]
) -> None:
    lifted = registry.upcast("case.sick_note_received", version, dict(data))
    assert SickNoteReceived.model_validate(lifted) == CURRENT


def test_current_payload_passes_unchanged(registry: EventRegistry) -> None:
    current = CURRENT.model_dump(mode="json")
    assert registry.upcast("case.sick_note_received", 3, dict(current)) == current


def test_payload_of_an_old_envelope_is_the_current_model(registry: EventRegistry) -> None:
    old = envelope(V1, schemaversion=1)
    assert registry.payload(old) == CURRENT
    assert old.data == V1  # the stored envelope is left as it was


def test_payload_newer_than_the_reader_is_refused(registry: EventRegistry) -> None:
    with pytest.raises(ValueError, match="newer than this reader"):
        registry.payload(envelope(CURRENT.model_dump(mode="json"), schemaversion=4))


def test_iteration_is_sorted_by_type_name() -> None:
    registry = EventRegistry()
    for name in ("case.opened", "case.closed", "access.recorded"):
        registry.register(name, SickNoteReceived)
    assert [t.name for t in registry] == ["access.recorded", "case.closed", "case.opened"]
