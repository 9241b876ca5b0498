"""The AsyncAPI 3.0 document of the published events (``asyncapi.yaml``, for integrators).

Built from the code, never edited by hand: one channel per Kafka topic the services publish
(``asyncapi_channels``), one message per event type and schema version (the contracts registry
plus the committed ``schemas/`` folder, which keeps old versions), payload = the CloudEvents
envelope whose ``data`` refers to ``schemas/<type>/v<N>.json``. ``naervaer asyncapi --check``
fails when the committed file has drifted from the code.

The referenced schema files are JSON Schema 2020-12 using only keywords draft-07 shares, so the
AsyncAPI default schema format (a draft-07 superset) reads them as they are.
"""

from __future__ import annotations

import difflib
import importlib.metadata
import inspect
import os
from pathlib import Path
from typing import Any

import yaml

from naervaer.asyncapi_channels import (
    CHANNELS,
    DLQ_HEADERS,
    KAFKA_HEADERS,
    KEY_SCHEMAS,
    ChannelSpec,
    StreamKind,
)
from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE
from naervaer.registry import EventRegistry, EventType
from naervaer.schemas import schema_id
from naervaer.settings import PlatformSettings

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING_VERSION = "0.5.0"
DEFAULT_TOPIC_PREFIX: str = PlatformSettings.model_fields["topic_prefix"].default
DESCRIPTION = """\
The events Nærvær publishes for integrators (NAV-style integrations, payroll, workforce planning).
Every record is a CloudEvents 1.0 event in structured mode (application/cloudevents+json); the
Kafka key is the stream id, so the events of one stream keep their order. Delivery is
at-least-once: deduplicate by the CloudEvents id. Payload schemas are versioned
(schemas/<type>/v<N>.json, JSON Schema 2020-12); topic names carry a configurable prefix
(NAERVAER_TOPIC_PREFIX, default "naervaer."). Events never hold diagnoses or other health data.
Read docs/integration-guide.md first.
"""


def build_document(
    registry: EventRegistry, schema_folder: Path, *, schema_ref: str = "./schemas"
) -> dict[str, Any]:
    """The AsyncAPI document; ``schema_ref`` is the schema folder as seen from the document."""
    _check_every_type_has_a_channel(registry)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in CHANNELS:
        ids = []
        for event_type, stream in _types_on(spec, registry):
            for version in _versions(event_type, schema_folder):
                message_id = f"{event_type.name}.v{version}"
                messages[message_id] = _message(event_type, version, stream, schema_ref)
                ids.append(message_id)
        channels[spec.topic] = _channel(spec, ids)
        operations[f"publish-{spec.topic}"] = _operation(spec, ids)
    channels["dead-letters"], operations["dead-letter"], messages["dead-letter"] = _dead_letters()
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Nærvær events",
            "version": importlib.metadata.version("naervaer-shared"),
            "description": DESCRIPTION,
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The Kafka of docker-compose.yml (deployments: their own).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": _components(messages),
    }


def _components(messages: dict[str, Any]) -> dict[str, Any]:
    return {
        "messages": messages,
        "schemas": {"KafkaHeaders": KAFKA_HEADERS, "DeadLetterHeaders": DLQ_HEADERS},
        "correlationIds": {
            "correlationId": {
                "description": "The request that recorded the event (x-correlation-id).",
                "location": "$message.payload#/correlationid",
            }
        },
    }


def _check_every_type_has_a_channel(registry: EventRegistry) -> None:
    prefixes = tuple(stream.prefix for spec in CHANNELS for stream in spec.streams)
    orphans = [t.name for t in registry if not t.name.startswith(prefixes)]
    if orphans:
        raise ValueError(f"event types on no channel (add them to CHANNELS): {orphans}")


def _types_on(spec: ChannelSpec, registry: EventRegistry) -> list[tuple[EventType, StreamKind]]:
    return [
        (event_type, stream)
        for event_type in registry
        for stream in spec.streams
        if event_type.name.startswith(stream.prefix)
    ]


def _versions(event_type: EventType, schema_folder: Path) -> list[int]:
    """Every version a consumer may still meet: the old committed files and the current one."""
    on_disk = {int(p.stem[1:]) for p in (schema_folder / event_type.name).glob("v*.json")}
    if any(version > event_type.version for version in on_disk):
        raise ValueError(f"{event_type.name}: schemas/ holds a version newer than the model")
    return sorted(on_disk | {event_type.version})


def _message(
    event_type: EventType, version: int, stream: StreamKind, schema_ref: str
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "name": event_type.name,
        "title": f"{event_type.name} v{version}",
        **_summary(event_type, version),
        "contentType": CLOUDEVENTS_CONTENT_TYPE,
        "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
        "headers": {
            "allOf": [
                {"$ref": "#/components/schemas/KafkaHeaders"},
                {"properties": {"ce_type": {"const": event_type.name}}},
            ]
        },
        "payload": _envelope_of(event_type.name, version, schema_ref),
        "bindings": {
            "kafka": {
                # inline: a $ref here matches both branches of the spec's oneOf
                "key": KEY_SCHEMAS[stream.key],
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }
    return message


def _summary(event_type: EventType, version: int) -> dict[str, str]:
    """The model's docstring: its first paragraph as summary, the others as description."""
    doc = inspect.cleandoc(event_type.model.__doc__ or "")
    if version < event_type.version:
        doc = f"Superseded by v{event_type.version}: upcast it when reading. {doc}".strip()
    paragraphs = [" ".join(p.split()) for p in doc.split("\n\n") if p.strip()]
    found = {"summary": paragraphs[0]} if paragraphs else {}
    if len(paragraphs) > 1:
        found["description"] = "\n\n".join(paragraphs[1:])
    return found


def _envelope_of(type_name: str, version: int, schema_ref: str) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": f"{schema_ref}/envelope.json"},
            {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "type": {"const": type_name},
                    "schemaversion": {"const": version},
                    "dataschema": {"const": schema_id(type_name, version)},
                    "data": {"$ref": f"{schema_ref}/{type_name}/v{version}.json"},
                },
            },
        ]
    }


def _channel(spec: ChannelSpec, message_ids: list[str]) -> dict[str, Any]:
    return {
        "address": f"{DEFAULT_TOPIC_PREFIX}{spec.topic}",
        "title": spec.title,
        "description": f"{spec.description} Published by {', '.join(spec.producers)}.",
        "messages": {mid: {"$ref": f"#/components/messages/{mid}"} for mid in message_ids},
        "bindings": {"kafka": {"bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _operation(spec: ChannelSpec, message_ids: list[str]) -> dict[str, Any]:
    return {
        "action": "send",
        "channel": {"$ref": f"#/channels/{spec.topic}"},
        "title": f"Publish {spec.title.lower()}",
        "summary": f"Published by {', '.join(spec.producers)} through the transactional outbox.",
        "messages": [{"$ref": f"#/channels/{spec.topic}/messages/{mid}"} for mid in message_ids],
    }


def _dead_letters() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Where our own consumers put what they gave up on: for operators, not integrators."""
    channel = {
        "address": f"{DEFAULT_TOPIC_PREFIX}{{consumer}}.dlq",
        "title": "Dead letters",
        "description": "Records one of Nærvær's own consumers gave up on (operations only).",
        "parameters": {"consumer": {"description": "The consumer, which is its group id."}},
        "messages": {"dead-letter": {"$ref": "#/components/messages/dead-letter"}},
    }
    operation = {
        "action": "send",
        "channel": {"$ref": "#/channels/dead-letters"},
        "summary": "A consumer dead-letters a record after its last attempt.",
        "messages": [{"$ref": "#/channels/dead-letters/messages/dead-letter"}],
    }
    message = {
        "name": "dead-letter",
        "title": "Dead letter",
        "summary": "The original record, unchanged, after the consumer's last failed attempt.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"description": "The original value, normally a CloudEvents envelope."},
    }
    return channel, operation, message


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (prose stays prose); no anchors for shared values."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def render_document(document: dict[str, Any]) -> str:
    return yaml.dump(
        document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2
    )


def expected_text(registry: EventRegistry, path: Path, schema_folder: Path) -> str:
    """What ``path`` must hold, with its schema references relative to it."""
    relative = Path(os.path.relpath(schema_folder.resolve(), path.resolve().parent)).as_posix()
    document = build_document(registry, schema_folder, schema_ref=f"./{relative}")
    return render_document(document)


def write_document(registry: EventRegistry, path: Path, schema_folder: Path) -> bool:
    """Write the document to ``path``; True when its content changed."""
    text = expected_text(registry, path, schema_folder)
    if path.exists() and path.read_text() == text:
        return False
    path.write_text(text)
    return True


def check_document(registry: EventRegistry, path: Path, schema_folder: Path) -> list[str]:
    """How ``path`` differs from the code (empty: no drift), with a short unified diff."""
    if not path.exists():
        return [f"{path.name}: missing (run `naervaer asyncapi`)"]
    expected = expected_text(registry, path, schema_folder)
    actual = path.read_text()
    if actual == expected:
        return []
    diff = difflib.unified_diff(
        actual.splitlines(), expected.splitlines(), "committed", "generated", lineterm="", n=1
    )
    return [f"{path.name}: differs from the code (run `naervaer asyncapi`)", *list(diff)[:40]]
