"""The reference for envelopes read back from the store, for tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from naervaer.envelope import Envelope
from naervaer.eventstore.model import dataschema_uri


def validated_envelope_from_row(row: Mapping[Any, Any], source: str) -> Envelope:
    """The envelope of a stored event's ``row`` through the validating constructor: what
    ``naervaer.eventstore.model.envelope_from_row``, which trusts the row, must equal."""
    return Envelope(
        id=row["event_id"],
        source=source,
        type=row["type"],
        subject=row["stream_id"],
        time=row["recorded_at"],
        dataschema=dataschema_uri(row["type"], row["schema_version"]),
        data=row["data"],
        tenant=row["tenant"],
        streamid=row["stream_id"],
        streamversion=row["stream_version"],
        globalposition=row["global_position"],
        correlationid=row["correlation_id"],
        causationid=row["causation_id"],
        schemaversion=row["schema_version"],
        traceparent=row["traceparent"],
        tracestate=row["tracestate"],
    )
