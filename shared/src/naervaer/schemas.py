"""JSON Schemas of the event envelope and every event type, kept in the committed ``schemas/``.

``schemas/envelope.json`` describes the CloudEvents envelope; ``schemas/<type>/v<N>.json`` the
payload (``data``) of each type at its current schema version. Old versions stay in the folder:
consumers may still hold them, and the drift check only compares the current ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from naervaer.envelope import Envelope
from naervaer.registry import EventRegistry, EventType


def schema_id(type_name: str, version: int) -> str:
    return f"urn:naervaer:schema:{type_name}:v{version}"


def payload_schema(event_type: EventType) -> dict[str, Any]:
    schema = event_type.model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id(event_type.name, event_type.version),
        "x-event-type": event_type.name,
        "x-schema-version": event_type.version,
        **schema,
    }


def envelope_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:naervaer:schema:envelope:v1",
        **Envelope.model_json_schema(mode="serialization"),
    }


def expected_files(registry: EventRegistry) -> dict[str, str]:
    """Relative path → file content for every schema the registry implies."""
    files = {"envelope.json": _render(envelope_schema())}
    for event_type in registry:
        files[f"{event_type.name}/v{event_type.version}.json"] = _render(payload_schema(event_type))
    return files


def write_schemas(registry: EventRegistry, folder: Path) -> list[Path]:
    written = []
    for relative, content in expected_files(registry).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != content:
            path.write_text(content)
            written.append(path)
    return written


def check_schemas(registry: EventRegistry, folder: Path) -> list[str]:
    """What differs between the models and the committed schemas (empty: no drift)."""
    drift = []
    for relative, content in expected_files(registry).items():
        path = folder / relative
        if not path.exists():
            drift.append(f"{relative}: missing (run `naervaer schemas`)")
        elif path.read_text() != content:
            drift.append(
                f"{relative}: differs from the model (bump schema_version with an "
                "upcaster for breaking changes, then run `naervaer schemas`)"
            )
    return drift


def _render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
