"""The event store (hendelseslager): append-only streams with optimistic concurrency.

One ``EventStore`` class over two write paths: a single CTE statement per append on
PostgreSQL (``postgres.py``) and plain statements in one transaction on SQLite (``sqlite.py``).
Reads are the same SQL on both.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from uuid import uuid4

from opentelemetry import propagate, trace
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore.backend import Appended, Appender, Duplicate
from naervaer.eventstore.errors import ConcurrencyConflict, IdempotencyKeyReused
from naervaer.eventstore.model import (
    AppendBatch,
    AppendResult,
    NewEvent,
    OutboxDraft,
    PendingEvent,
    envelope_from_row,
    payload_json,
    utc_now,
)
from naervaer.eventstore.postgres import PostgresAppender
from naervaer.eventstore.reading import EventReader
from naervaer.eventstore.sqlite import SqliteAppender
from naervaer.eventstore.tables import STREAM_VERSION_CONSTRAINT, EventStoreTables
from naervaer.observability.metrics import APPEND_SECONDS


class EventStore:
    """Appends events to streams and reads them back, as CloudEvents envelopes.

    ``outbox_topic`` set: every appended event also gets an outbox row (for the relay to
    publish) in the same transaction; ``topic_by_stream_type`` sends the events of some stream
    types to another topic (e.g. access records). ``clock`` stamps ``recorded_at``/``time``.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        tables: EventStoreTables,
        *,
        source: str,
        outbox_topic: str | None,
        topic_by_stream_type: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        tracer: trace.Tracer | None = None,
        service: str = "unknown",
    ) -> None:
        self._engine = engine
        self._source = source
        self._outbox_topic = outbox_topic
        self._topic_by_stream_type = dict(topic_by_stream_type or {})
        self._clock = clock
        self._tracer = tracer or trace.get_tracer("naervaer.eventstore")
        self._service = service
        self._reader = EventReader(tables, source)
        self._appender: Appender
        if engine.dialect.name == "postgresql":
            self._appender = PostgresAppender(tables, engine.dialect, self._reader)
        else:
            self._appender = SqliteAppender(tables, self._reader)

    async def append(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        tenant: str,
        expected_version: int | None,
        stream_type: str = "case",
        command_id: str | None = None,
        command_fingerprint: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        connection: AsyncConnection | None = None,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` atomically.

        ``expected_version``: 0 = the stream must be new, n = it must be at exactly n, None =
        wherever it is. A mismatch raises ``ConcurrencyConflict`` and writes nothing. A
        ``command_id`` seen before writes nothing and returns the first result with
        ``duplicate=True``; when both appends carry a ``command_fingerprint`` (a hash of the
        request) and they differ, it raises ``IdempotencyKeyReused`` instead. With
        ``connection`` the append joins the caller's transaction (in a savepoint) and the
        caller commits; otherwise it commits its own.
        """
        attributes: dict[str, str | int] = {
            "naervaer.service": self._service,
            "naervaer.stream_id": stream_id,
            "naervaer.stream_type": stream_type,
            "naervaer.event_count": len(events),
        }
        with (
            self._tracer.start_as_current_span("eventstore.append", attributes=attributes) as span,
            APPEND_SECONDS.labels(service=self._service).time(),
        ):
            batch = self._prepare(
                stream_id,
                events,
                tenant=tenant,
                expected_version=expected_version,
                stream_type=stream_type,
                command_id=command_id,
                command_fingerprint=command_fingerprint,
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
            result = await self._write(batch, connection)
            span.set_attribute("naervaer.stream_version", result.version)
            span.set_attribute("naervaer.duplicate", result.duplicate)
        return result

    async def command_result(
        self, command_id: str, *, fingerprint: str | None = None
    ) -> AppendResult | None:
        """The result of an earlier append of ``command_id`` (``duplicate=True``), or None.

        Lets a command handler answer a retried request before deciding it again (a retry must
        not be refused by a rule the first attempt made true). Raises ``IdempotencyKeyReused``
        when the command was logged with another ``fingerprint``.
        """
        async with self._engine.connect() as conn:
            logged = await self._reader.logged_command(conn, command_id)
            if logged is None:
                return None
            _same_request(command_id, logged.fingerprint, fingerprint)
            return await self._first_result(conn, command_id, logged.stream_id)

    async def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Envelope]:
        """The stream's events in version order, up to ``to_version`` / recorded by ``as_of``."""
        async with self._engine.connect() as conn:
            return await self._reader.stream(conn, stream_id, to_version=to_version, as_of=as_of)

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it does not exist."""
        async with self._engine.connect() as conn:
            return await self._reader.version(conn, stream_id)

    async def read_all(
        self,
        after_position: int = 0,
        limit: int = 1000,
        *,
        stream_types: Collection[str] | None = None,
        exclude_stream_types: Collection[str] = (),
    ) -> list[Envelope]:
        """Events after ``after_position`` in global position order, optionally only of (or
        not of) some stream types — the embedded transport's view of one topic."""
        async with self._engine.connect() as conn:
            return await self._reader.log(
                conn, after_position, limit, stream_types, exclude_stream_types
            )

    async def head_position(self) -> int:
        """The global position of the last committed event; 0 for an empty store."""
        async with self._engine.connect() as conn:
            return await self._reader.head(conn)

    def _prepare(
        self,
        stream_id: str,
        events: Sequence[NewEvent],
        *,
        tenant: str,
        expected_version: int | None,
        stream_type: str,
        command_id: str | None,
        command_fingerprint: str | None,
        correlation_id: str | None,
        causation_id: str | None,
    ) -> AppendBatch:
        if not events:
            raise ValueError("append needs at least one event")
        if expected_version is not None and expected_version < 0:
            raise ValueError(f"expected_version must be >= 0, got {expected_version}")
        recorded_at = self._clock()
        if recorded_at.tzinfo is None:
            raise ValueError("the store's clock must return timezone-aware datetimes")
        pending = tuple(
            PendingEvent(e.event_id or uuid4(), e.type, e.schema_version, payload_json(e.data))
            for e in events
        )
        carrier: dict[str, str] = {}
        propagate.inject(carrier)  # the current span: consumers and the relay continue it
        return AppendBatch(
            stream_id=stream_id,
            stream_type=stream_type,
            tenant=tenant,
            expected_version=expected_version,
            command_id=command_id,
            command_fingerprint=command_fingerprint,
            correlation_id=correlation_id,
            causation_id=causation_id,
            recorded_at=recorded_at.astimezone(UTC),
            events=pending,
            outbox=self._outbox_draft(stream_type),
            traceparent=carrier.get("traceparent"),
            tracestate=carrier.get("tracestate"),
        )

    def _outbox_draft(self, stream_type: str) -> OutboxDraft | None:
        if self._outbox_topic is None:
            return None
        # Wall-clock time, not the store's clock: the outbox age is an operational measure.
        return OutboxDraft(
            topic=self._topic_by_stream_type.get(stream_type, self._outbox_topic),
            created_at=datetime.now(UTC),
        )

    async def _write(self, batch: AppendBatch, connection: AsyncConnection | None) -> AppendResult:
        try:
            if connection is not None:
                async with connection.begin_nested():
                    return await self._write_on(connection, batch)
            async with self._engine.begin() as conn:
                return await self._write_on(conn, batch)
        except IntegrityError as error:
            if not _is_version_clash(error):
                raise
            actual = await self._version_after_clash(batch.stream_id, connection)
            raise ConcurrencyConflict(batch.stream_id, batch.expected_version, actual) from error

    async def _write_on(self, conn: AsyncConnection, batch: AppendBatch) -> AppendResult:
        outcome = await self._appender.append(conn, batch)
        if isinstance(outcome, Duplicate):
            assert batch.command_id is not None
            logged = await self._reader.logged_command(conn, batch.command_id)
            if logged is not None:
                _same_request(batch.command_id, logged.fingerprint, batch.command_fingerprint)
            return await self._first_result(conn, batch.command_id, batch.stream_id)
        return self._result(batch, outcome)

    def _result(self, batch: AppendBatch, outcome: Appended) -> AppendResult:
        rows = batch.event_rows(outcome.first_position, outcome.version - batch.count + 1)
        envelopes = tuple(envelope_from_row(row, self._source) for row in rows)
        return AppendResult(batch.stream_id, outcome.version, envelopes, duplicate=False)

    async def _first_result(
        self, conn: AsyncConnection, command_id: str, stream_id: str
    ) -> AppendResult:
        """What the first append of a retried command returned (idempotent append)."""
        envelopes = await self._reader.by_command(conn, command_id)
        if not envelopes:  # pragma: no cover - the command log and events are written together
            version = await self._reader.version(conn, stream_id)
            return AppendResult(stream_id, version, (), duplicate=True)
        last = envelopes[-1]
        return AppendResult(last.streamid, last.streamversion, tuple(envelopes), duplicate=True)

    async def _version_after_clash(self, stream_id: str, connection: AsyncConnection | None) -> int:
        if connection is not None:  # the savepoint was rolled back: the caller's tx is usable
            return await self._reader.version(connection, stream_id)
        return await self.stream_version(stream_id)


def _same_request(command_id: str, logged: str | None, offered: str | None) -> None:
    """Refuse a reused idempotency key: same command id, another request fingerprint.

    Only two known fingerprints can differ: an append without one cannot be told apart.
    """
    if logged is not None and offered is not None and logged != offered:
        raise IdempotencyKeyReused(command_id)


def _is_version_clash(error: IntegrityError) -> bool:
    """A unique violation on (stream_id, stream_version): a lost race for a version."""
    message = str(error.orig)
    return STREAM_VERSION_CONSTRAINT in message or (
        "events.stream_id, events.stream_version" in message
    )
