"""Schema compatibility: each kind of breaking change is caught, annotations are not, and no
committed schema has been broken at its own version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from naervaer.compatibility import check_compatibility
from naervaer.contracts import CONTRACTS
from naervaer.schemas import envelope_schema, payload_schema

# shared/tests/unit/test_compatibility.py → the repository root holds the committed schemas/.
COMMITTED = Path(__file__).resolve().parents[3] / "schemas"


def obj(properties: dict[str, Any], *required: str, closed: bool = True) -> dict[str, Any]:
    """An object schema as pydantic writes a contract: closed to unknown properties."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": [*required]}
    if closed:
        schema["additionalProperties"] = False
    return schema


STRING = {"type": "string"}
GRADE = {"type": "integer", "minimum": 1, "maximum": 100}
KIND = {"type": "string", "enum": ["ordinary", "graded", "pending"]}
OPTIONAL_DATE = {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]}
BASE = obj({"case_id": STRING, "grade": GRADE, "kind": KIND}, "case_id", "grade", "kind")


def changed(**properties: Any) -> dict[str, Any]:
    return obj({**BASE["properties"], **properties}, *BASE["required"])


# (what changed, old schema, new schema, *every finding expected)
BREAKING: list[tuple[Any, ...]] = [
    (
        "property removed",
        BASE,
        obj({"case_id": STRING, "kind": KIND}, "case_id", "kind"),
        "$.grade: property removed or renamed",
    ),
    (
        "property renamed",
        BASE,
        obj({"case_id": STRING, "grade_percent": GRADE, "kind": KIND}, "case_id", "kind"),
        "$.grade: property removed or renamed",
        "$.grade_percent: property added where the old schema forbids unknown ones",
    ),
    (
        "property added to a closed object",
        BASE,
        changed(received_on=OPTIONAL_DATE),
        "$.received_on: property added where the old schema forbids unknown ones",
    ),
    (
        "property becoming required",
        obj({"case_id": STRING, "note": STRING}, "case_id"),
        obj({"case_id": STRING, "note": STRING}, "case_id", "note"),
        "$.note: became required",
    ),
    (
        "required property becoming optional",
        BASE,
        obj(BASE["properties"], "case_id", "kind"),
        "$.grade: no longer required",
    ),
    (
        "type narrowed",
        obj({"at": OPTIONAL_DATE}),
        obj({"at": {"type": "string", "format": "date"}}),
        "$.at: type narrowed, null no longer allowed",
    ),
    (
        "number narrowed to integer",
        obj({"amount": {"type": "number"}}),
        obj({"amount": {"type": "integer"}}),
        "$.amount: type narrowed, number no longer allowed",
    ),
    (
        "type widened",
        BASE,
        changed(grade={"anyOf": [GRADE, {"type": "null"}]}),
        "$.grade: type widened, null now allowed",
    ),
    (
        "type replaced",
        BASE,
        changed(grade={"type": "string"}),
        "$.grade: type narrowed, integer no longer allowed",
        "$.grade: type widened, string now allowed",
    ),
    (
        "enum value removed",
        BASE,
        changed(kind={"type": "string", "enum": ["ordinary", "graded"]}),
        '$.kind: enum values removed: "pending"',
    ),
    (
        "enum value added",
        BASE,
        changed(kind={"type": "string", "enum": ["ordinary", "graded", "pending", "x"]}),
        '$.kind: enum values added: "x"',
    ),
    (
        "const changed",
        obj({"stage": {"type": "string", "const": "due"}}),
        obj({"stage": {"type": "string", "const": "overdue"}}),
        '$.stage: const changed from "due" to "overdue"',
    ),
    (
        "free value narrowed to an enum",
        obj({"reason": STRING}),
        obj({"reason": {"type": "string", "enum": ["other"]}}),
        '$.reason: narrowed to the values "other"',
    ),
    (
        "additionalProperties tightened",
        obj({"case_id": STRING}, "case_id", closed=False),
        obj({"case_id": STRING}, "case_id"),
        "$: additionalProperties tightened",
    ),
    (
        "additionalProperties loosened",
        obj({"case_id": STRING}, "case_id"),
        obj({"case_id": STRING}, "case_id", closed=False),
        "$: additionalProperties loosened",
    ),
    (
        "lower bound raised",
        BASE,
        changed(grade={**GRADE, "minimum": 20}),
        "$.grade: minimum tightened from 1 to 20",
    ),
    (
        "upper bound lowered",
        BASE,
        changed(grade={**GRADE, "maximum": 99}),
        "$.grade: maximum tightened from 100 to 99",
    ),
    (
        "length limit added",
        obj({"reason": STRING}),
        obj({"reason": {"type": "string", "minLength": 1}}),
        "$.reason: minLength tightened from none to 1",
    ),
    (
        "upper bound dropped",
        BASE,
        changed(grade={"type": "integer", "minimum": 1}),
        "$.grade: maximum loosened from 100 to none",
    ),
    (
        "pattern changed",
        obj({"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}),
        obj({"sha256": {"type": "string", "pattern": "^[0-9a-f]+$"}}),
        '$.sha256: pattern changed from "^[0-9a-f]{64}$" to "^[0-9a-f]+$"',
    ),
    (
        "format changed",
        obj({"on": {"type": "string", "format": "date"}}),
        obj({"on": {"type": "string", "format": "date-time"}}),
        '$.on: format changed from "date" to "date-time"',
    ),
    (
        "array item type changed",
        obj({"roles": {"type": "array", "items": STRING}}),
        obj({"roles": {"type": "array", "items": {"type": "integer"}}}),
        "$.roles[]: type narrowed, string no longer allowed",
        "$.roles[]: type widened, integer now allowed",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [pytest.param(old, new, list(expected), id=name) for name, old, new, *expected in BREAKING],
)
def test_each_kind_of_breaking_change_is_reported(
    old: dict[str, Any], new: dict[str, Any], expected: list[str]
) -> None:
    assert check_compatibility(old, new) == expected


def test_a_change_inside_a_referenced_definition_is_found_at_its_path() -> None:
    def plan(*required: str) -> dict[str, Any]:
        return {
            **obj({"plan": {"$ref": "#/$defs/Plan"}}, "plan"),
            "$defs": {"Plan": obj({"follow_up": STRING, "evaluation_date": STRING}, *required)},
        }

    assert check_compatibility(plan("follow_up"), plan("follow_up", "evaluation_date")) == [
        "$.plan.evaluation_date: became required"
    ]


def test_a_recursive_definition_is_compared_once() -> None:
    node = {
        "$ref": "#/$defs/Node",
        "$defs": {"Node": obj({"child": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}]}})},
    }
    wider = json.loads(json.dumps(node))
    wider["$defs"]["Node"]["properties"]["name"] = STRING
    assert check_compatibility(node, node) == []
    assert check_compatibility(node, wider) == [
        "$.name: property added where the old schema forbids unknown ones"
    ]


def test_annotations_may_change_freely() -> None:
    annotated = changed(
        grade={**GRADE, "title": "Grade", "description": "Per cent.", "examples": [50]},
        kind={**KIND, "default": "ordinary"},
    )
    assert (
        check_compatibility(BASE, {**annotated, "title": "SickNote", "x-schema-version": 1}) == []
    )


def test_identical_schemas_and_a_property_added_to_an_open_object_are_compatible() -> None:
    assert check_compatibility(BASE, BASE) == []
    open_old = obj({"case_id": STRING}, "case_id", closed=False)
    open_new = obj({"case_id": STRING, "note": STRING}, "case_id", closed=False)
    assert check_compatibility(open_old, open_new) == []


def test_a_real_contract_change_is_breaking() -> None:
    """The check as the committed-schema test uses it, on a real schema made stricter."""
    current = payload_schema(CONTRACTS.get("case.sick_note_received"))
    stricter = json.loads(json.dumps(current))
    stricter["required"].append("received_on")
    assert check_compatibility(current, stricter) == ["$.received_on: became required"]


@pytest.mark.parametrize("event_type", [t.name for t in CONTRACTS])
def test_no_committed_schema_is_broken_at_its_own_version(event_type: str) -> None:
    """A breaking change needs a new schema version (and an upcaster), never an edit in place."""
    current = CONTRACTS.get(event_type)
    committed = COMMITTED / event_type / f"v{current.version}.json"
    assert committed.exists(), f"{committed.name} of {event_type}: run `naervaer schemas`"
    problems = check_compatibility(json.loads(committed.read_text()), payload_schema(current))
    assert problems == [], (
        f"{event_type} v{current.version} changed incompatibly; bump its schema version and "
        f"register an upcaster: {problems}"
    )


def test_the_committed_envelope_is_not_broken() -> None:
    committed = json.loads((COMMITTED / "envelope.json").read_text())
    assert check_compatibility(committed, envelope_schema()) == []
