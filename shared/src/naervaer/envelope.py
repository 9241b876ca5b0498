"""The one event envelope used on every topic: CloudEvents 1.0 plus Nærvær extension attributes.

CloudEvents extension attribute names must be lower-case alphanumerics, hence ``streamid``,
``streamversion`` etc. The envelope travels in CloudEvents *structured* mode
(``application/cloudevents+json``): one JSON object holding the attributes and ``data``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
SPEC_VERSION = "1.0"


class Envelope(BaseModel):
    """A stored or published event, whatever its payload type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: str = SPEC_VERSION
    id: UUID = Field(description="Event id; unique across the whole system.")
    source: str = Field(description="URI reference of the producing service, e.g. /case-service.")
    type: str = Field(description="Stable event type, e.g. case.opened (never a module path).")
    subject: str = Field(description="The stream the event belongs to (the case id for cases).")
    time: datetime = Field(description="When the event was recorded (UTC).")
    datacontenttype: str = "application/json"
    dataschema: str = Field(description="URI of the JSON Schema of data, schemas/<type>/v<N>.json.")
    data: dict[str, Any]
    # Nærvær extension attributes
    tenant: str = Field(description="Tenant (employer) the stream belongs to.")
    streamid: str
    streamversion: int = Field(ge=1, description="Version of the stream after this event.")
    globalposition: int | None = Field(
        default=None, ge=1, description="Gap-free position in the producing store's log."
    )
    correlationid: str | None = None
    causationid: str | None = None
    schemaversion: int = Field(default=1, ge=1)
    # CloudEvents distributed-tracing extension: the W3C context of the command that recorded
    # the event, so consumers on any transport continue its trace.
    traceparent: str | None = None
    tracestate: str | None = None

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)
