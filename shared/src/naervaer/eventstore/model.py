"""What goes into and comes out of the event store, and how rows become envelopes."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple
from uuid import UUID

from pydantic import BaseModel
from pydantic_core import to_json

from naervaer.envelope import DATA_CONTENT_TYPE, SPEC_VERSION, Envelope, trusted_envelope
from naervaer.eventstore.ids import new_event_ids


def utc_now() -> datetime:
    """The wall clock in UTC (the default clock of the store)."""
    return datetime.now(UTC)


# Every envelope read carries one: formatted once per (type, version), and then one shared
# string for all events of a type. Types come from code, so the cache stays small; the bound
# only guards against a store full of odd types.
@functools.lru_cache(maxsize=4096)
def dataschema_uri(event_type: str, schema_version: int) -> str:
    return f"urn:naervaer:schema:{event_type}:v{schema_version}"


@dataclass(frozen=True)
class NewEvent:
    """An event to append; ``event_id`` defaults to a fresh uuid4."""

    type: str
    data: Mapping[str, Any] | BaseModel
    schema_version: int = 1
    event_id: UUID | None = None


class AppendResult:
    """Outcome of an append: the version reached and the stored envelopes.

    ``duplicate`` is True when the command had been appended before: nothing new was written
    and ``version``/``envelopes`` are those of that first append. ``envelopes`` may be given
    as a function that builds them: the store then builds them only if a caller reads them
    (most commands need only the version, and a 500-event batch would spend a third of its
    time on envelopes nobody reads).
    """

    __slots__ = ("_build", "_envelopes", "duplicate", "stream_id", "version")

    def __init__(
        self,
        stream_id: str,
        version: int,
        envelopes: tuple[Envelope, ...] | Callable[[], tuple[Envelope, ...]],
        duplicate: bool,
    ) -> None:
        self.stream_id = stream_id
        self.version = version
        self.duplicate = duplicate
        self._envelopes = envelopes if isinstance(envelopes, tuple) else None
        self._build = None if isinstance(envelopes, tuple) else envelopes

    @property
    def envelopes(self) -> tuple[Envelope, ...]:
        if self._envelopes is None:
            assert self._build is not None
            self._envelopes, self._build = self._build(), None
        return self._envelopes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AppendResult):
            return NotImplemented
        return (self.stream_id, self.version, self.duplicate, self.envelopes) == (
            other.stream_id,
            other.version,
            other.duplicate,
            other.envelopes,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside: like a dataclass(eq)

    def __repr__(self) -> str:
        return (
            f"AppendResult(stream_id={self.stream_id!r}, version={self.version}, "
            f"events={len(self.envelopes)}, duplicate={self.duplicate})"
        )


@dataclass(frozen=True)
class LoggedCommand:
    """A command id in the command log: the stream it wrote to and its request fingerprint."""

    stream_id: str
    fingerprint: str | None


class PendingEvent(NamedTuple):
    """A new event with its payload serialised once, before positions are known.

    ``plain`` is the payload as a later read gives it back, when that was had for free (see
    ``pending_events``); otherwise ``data`` parses the JSON text. A named tuple, not a frozen
    dataclass: just as immutable, and built in a fraction of the time (a 500-event append
    builds 500 of them).
    """

    event_id: UUID
    type: str
    schema_version: int
    data_json: str
    plain: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self.plain is not None:
            return self.plain
        # Read back from the JSON text so the returned envelope equals a later read.
        return json.loads(self.data_json)  # type: ignore[no-any-return]


def pending_events(events: Sequence[NewEvent]) -> tuple[PendingEvent, ...]:
    """Serialise each of ``events`` once, in one pass; events without an id get a fresh one
    (all drawn at once, see ``ids.py``)."""
    for event in events:
        # Checked here because reads trust stored rows (``envelope_from_row``): a version 0
        # would otherwise be written and only refused by the consumers of its envelope.
        if event.schema_version < 1:
            raise ValueError(f"schema_version must be >= 1, got {event.schema_version}")
    fresh = iter(new_event_ids(sum(event.event_id is None for event in events)))
    return tuple(_pending(event, event.event_id or next(fresh)) for event in events)


def _pending(event: NewEvent, event_id: UUID) -> PendingEvent:
    """Keep a copy of the payload when it already is what reading the stored JSON back would
    give (no parse needed for the returned envelope)."""
    data = event.data
    if isinstance(data, BaseModel):
        payload = data.model_dump(mode="json")  # a new dict of JSON types only
        plain: dict[str, Any] | None = payload
    else:
        payload = dict(data)
        # Nested or unusual values: the envelope parses the JSON text instead.
        plain = payload if _flat_json(payload) else None
    # JSON types only: the fast text. Otherwise the standard library's rules (non-str keys,
    # types JSON does not have refused).
    text = json.dumps(payload) if plain is None else _text(payload)
    return PendingEvent(event_id, event.type, event.schema_version, text, plain)


def _text(json_types_only: dict[str, Any]) -> str:
    """JSON text of a dict of JSON types only, as ``json.dumps`` gives it but compact (the
    database keeps ``jsonb``: spacing and escapes are not kept) and about four times faster:
    a 500-event append serialises 500 payloads. NaN and infinities stay as ``json.dumps``
    writes them, for the database to refuse."""
    return to_json(json_types_only, inf_nan_mode="constants").decode()


# Exactly these types (not subclasses such as enums) read back from JSON as themselves.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _flat_json(data: dict[Any, Any]) -> bool:
    """True when every key is a str and every value a JSON scalar: the dict then equals its
    own JSON round trip, and a shallow copy shares nothing mutable with the caller."""
    return all(type(k) is str and type(v) in _SCALARS for k, v in data.items())


@dataclass(frozen=True)
class OutboxDraft:
    """What the outbox rows of an append carry besides the event (transaktional utboks)."""

    topic: str
    created_at: datetime
    # One row naming the append's events (a range), else one row per event.
    row_per_append: bool = False


@dataclass(frozen=True)
class AppendBatch:
    """One append, validated and serialised, ready for a backend to write."""

    stream_id: str
    stream_type: str
    tenant: str
    expected_version: int | None
    command_id: str | None
    command_fingerprint: str | None
    correlation_id: str | None
    causation_id: str | None
    recorded_at: datetime
    events: tuple[PendingEvent, ...]
    outbox: OutboxDraft | None
    traceparent: str | None = None
    tracestate: str | None = None

    @property
    def count(self) -> int:
        return len(self.events)

    def event_rows(self, first_position: int, first_version: int) -> list[dict[str, Any]]:
        """Rows of the ``events`` table, given the first global position and stream version."""
        return [
            {
                "global_position": first_position + index,
                "event_id": event.event_id,
                "stream_id": self.stream_id,
                "stream_version": first_version + index,
                "stream_type": self.stream_type,
                "tenant": self.tenant,
                "type": event.type,
                "schema_version": event.schema_version,
                "data": event.data,
                "recorded_at": self.recorded_at,
                "correlation_id": self.correlation_id,
                "causation_id": self.causation_id,
                "command_id": self.command_id,
                "traceparent": self.traceparent,
                "tracestate": self.tracestate,
            }
            for index, event in enumerate(self.events)
        ]

    def envelopes(
        self, first_position: int, first_version: int, source: str
    ) -> tuple[Envelope, ...]:
        """The envelopes of the written batch, as a later read of the stream returns them."""
        rows = self.event_rows(first_position, first_version)
        return tuple(envelope_from_row(row, source) for row in rows)

    def outbox_rows(self, first_position: int) -> list[dict[str, Any]]:
        """The append's outbox rows: one naming all its events (they share stream and topic)
        when the draft asks for a row per append, else one per event."""
        if self.outbox is None:
            return []
        last = first_position + self.count - 1
        if self.outbox.row_per_append:
            spans = [(first_position, last if last > first_position else None)]
        else:
            spans = [(position, None) for position in range(first_position, last + 1)]
        return [
            {
                "global_position": position,
                "last_position": last_position,
                "topic": self.outbox.topic,
                "message_key": self.stream_id,
                "created_at": self.outbox.created_at,
                "published_at": None,
            }
            for position, last_position in spans
        ]


def envelope_from_row(row: Mapping[Any, Any], source: str) -> Envelope:
    """Rebuild the CloudEvents envelope of a stored event (a row of ``events``, read through
    the table's column types, or the same columns from asyncpg).

    Not validated again: the row holds what a validated append wrote, and its column types
    give exactly what validation would (a UUID, an aware UTC time through ``UtcDateTime``, a
    dict from JSON, ints). This was a tenth of a projection rebuild's CPU; the envelope is
    equal to the validated one (``tests/eventstore/test_trusted_rows.py``).
    """
    event_type = row["type"]
    schema_version = row["schema_version"]
    stream_id = row["stream_id"]
    return trusted_envelope(
        {
            "specversion": SPEC_VERSION,
            "id": row["event_id"],
            "source": source,
            "type": event_type,
            "subject": stream_id,
            "time": row["recorded_at"],
            "datacontenttype": DATA_CONTENT_TYPE,
            "dataschema": dataschema_uri(event_type, schema_version),
            # A copy, as validation makes one: the envelope owns its payload.
            "data": dict(row["data"]),
            "tenant": row["tenant"],
            "streamid": stream_id,
            "streamversion": row["stream_version"],
            "globalposition": row["global_position"],
            "correlationid": row["correlation_id"],
            "causationid": row["causation_id"],
            "schemaversion": schema_version,
            "traceparent": row["traceparent"],
            "tracestate": row["tracestate"],
        }
    )
