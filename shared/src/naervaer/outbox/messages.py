"""Messages the outbox relay hands to a publisher, and how an outbox row becomes one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from opentelemetry import propagate, trace

from naervaer.envelope import CLOUDEVENTS_CONTENT_TYPE, Envelope

_CONTENT_TYPE_HEADER = ("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())


@dataclass(frozen=True)
class OutgoingMessage:
    """One Kafka record: CloudEvents structured mode, keyed by stream id."""

    topic: str
    key: bytes
    value: bytes
    headers: tuple[tuple[str, bytes], ...]


class Publisher(Protocol):
    """Sends messages to the broker."""

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        """Return only once the broker acknowledged ALL ``messages``; raise otherwise.

        Messages sharing a key must reach the broker in the given order.
        """
        ...


class PublishFailed(Exception):
    """A batch was not acknowledged; its rows stay pending and are sent again."""


@dataclass(frozen=True)
class PendingRow:
    """An event of an unpublished outbox row (a row names all the events of one append)."""

    envelope: Envelope
    topic: str
    key: str
    traceparent: str | None
    tracestate: str | None
    outbox_position: int  # the row's: the position of its append's first event

    @property
    def position(self) -> int:
        return self.envelope.globalposition or 0

    def trace_carrier(self) -> dict[str, str]:
        """The W3C trace context stored with the row (that of the append)."""
        carrier = {"traceparent": self.traceparent, "tracestate": self.tracestate}
        return {name: value for name, value in carrier.items() if value}


def to_message(row: PendingRow, span: trace.Span) -> OutgoingMessage:
    """The Kafka record of ``row``, carrying the trace context of its producer ``span``."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    envelope = row.envelope
    headers = (
        _CONTENT_TYPE_HEADER,
        ("ce_id", str(envelope.id).encode()),
        ("ce_type", envelope.type.encode()),
        ("ce_tenant", envelope.tenant.encode()),
        *((name, value.encode()) for name, value in carrier.items()),
    )
    return OutgoingMessage(row.topic, row.key.encode(), envelope.to_json_bytes(), headers)
