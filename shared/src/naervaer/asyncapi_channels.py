"""What the AsyncAPI document says about each topic: its streams, keys, producers and headers.

Each published event type belongs to exactly one channel by its type prefix (``case.`` …); the
document generator refuses a registered type no channel claims, so a new family of events
cannot go undocumented. The producers are those of the services' ``ServiceSpec.publishes``
(a contract test keeps the two in step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE
from naervaer.topics import ACCESS_EVENTS


@dataclass(frozen=True)
class StreamKind:
    """The streams whose event types start with ``prefix``; ``key`` names their key schema."""

    prefix: str
    key: str


@dataclass(frozen=True)
class ChannelSpec:
    """One topic (without the prefix), who publishes it and which streams travel on it."""

    topic: str
    title: str
    description: str
    producers: tuple[str, ...]
    streams: tuple[StreamKind, ...]


def _uuid_key(description: str) -> dict[str, Any]:
    return {"type": "string", "format": "uuid", "description": description}


def _prefixed_key(prefix: str, description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{prefix}", "description": description}


KEY_SCHEMAS: dict[str, dict[str, Any]] = {
    "CaseKey": _uuid_key("The case id: every event of one case goes to one partition, in order."),
    "EmployeeKey": _prefixed_key("employee:", "employee:<tenant>:<employee_id>, the quota ledger."),
    "TenantKey": _prefixed_key("tenant:", "tenant:<tenant>, the employer's case policy."),
    "DocumentKey": _uuid_key("The document id (stable per tenant, case and document kind)."),
    "AccessKey": _prefixed_key("access-", "access-<uuid>: each access record is its own stream."),
}

CHANNELS = (
    ChannelSpec(
        "case-events",
        "Case events",
        "Every fact about a sick-leave case (sykefraværstilfelle), plus the employee's "
        "self-certification ledger (egenmelding) and the employer's case policy.",
        ("case-service",),
        (
            StreamKind("case.", "CaseKey"),
            StreamKind("employee.", "EmployeeKey"),
            StreamKind("tenant.", "TenantKey"),
        ),
    ),
    ChannelSpec(
        "deadline-events",
        "Deadline events",
        "Reminders of the legal obligations of a case (fristvarsler): approaching, due, overdue.",
        ("deadline-service",),
        (StreamKind("deadline.", "CaseKey"),),
    ),
    ChannelSpec(
        "document-events",
        "Document events",
        "Documents of a case (plans, meeting minutes): versions, signatures, attachments.",
        ("document-service",),
        (StreamKind("document.", "DocumentKey"),),
    ),
    ChannelSpec(
        ACCESS_EVENTS,
        "Access records",
        "Who read, changed or was refused a case (innsynslogg).",
        ("case-service", "deadline-service"),
        (StreamKind("access.", "AccessKey"),),
    ),
)

KAFKA_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "Kafka record headers (UTF-8): the envelope's routing attributes, duplicated.",
    "required": ["content-type", "ce_id", "ce_type", "ce_tenant"],
    "properties": {
        "content-type": {"const": CLOUDEVENTS_CONTENT_TYPE},
        "ce_id": {"type": "string", "format": "uuid", "description": "The envelope's id."},
        "ce_type": {"type": "string", "description": "The envelope's type."},
        "ce_tenant": {"type": "string", "description": "The envelope's tenant."},
        "traceparent": {"type": "string", "description": "W3C trace context of the publish."},
        "tracestate": {"type": "string"},
    },
}

DLQ_HEADER_NAMES = (
    "dlq.error.type",
    "dlq.error.message",
    "dlq.attempts",
    "dlq.consumer",
    "dlq.original.topic",
    "dlq.original.partition",
    "dlq.original.offset",
    "dlq.failed_at",
)
DLQ_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original record's headers, plus why it was dead-lettered.",
    "required": ["dlq.error.type", "dlq.attempts", "dlq.consumer", "dlq.original.topic"],
    "properties": {name: {"type": "string"} for name in DLQ_HEADER_NAMES},
}
