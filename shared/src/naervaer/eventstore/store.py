"""The event store (hendelseslager): append-only streams with optimistic concurrency.

One ``EventStore`` class over two write paths: a single CTE statement per append on
PostgreSQL (``postgres.py``) and plain statements in one transaction on SQLite (``sqlite.py``).
Reads are the same SQL on both.

On PostgreSQL the store runs what it does on its own (an append without ``connection=``, every
read) on autocommit connections: each statement is its own transaction, so a call costs one
round trip instead of three (``BEGIN``, the statement, ``COMMIT``/``ROLLBACK``), and the append
holds the ``event_log_head`` row lock for its statement only, never across a client round trip.
That is equally atomic (the append is one statement) and reads see the same data (READ
COMMITTED takes a snapshot per statement anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from time import perf_counter

from asyncpg import Record  # type: ignore[import-untyped]
from opentelemetry import propagate, trace
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.envelope import Envelope
from naervaer.eventstore.driver import DriverConnections
from naervaer.eventstore.group import GroupCommit
from naervaer.eventstore.model import (
    AppendBatch,
    AppendResult,
    NewEvent,
    OutboxDraft,
    pending_events,
    utc_now,
)
from naervaer.eventstore.postgres import PostgresAppender
from naervaer.eventstore.read_group import ReadGroup
from naervaer.eventstore.reading import EventReader
from naervaer.eventstore.sqlite import SqliteAppender
from naervaer.eventstore.tables import EventStoreTables
from naervaer.eventstore.writing import BatchWriter, same_request
from naervaer.observability.metrics import APPEND_SECONDS
from naervaer.observability.tracing import unrecorded_span_or_root

# From this many events an append's preparation (ids, JSON, ~5-10 µs an event) outweighs a
# turn of the event loop: such an append lets a group that is about to go out go first.
MAKE_WAY_AT = 16


class EventStore:
    """Appends events to streams and reads them back, as CloudEvents envelopes.

    ``outbox_topic`` set: every append also writes outbox rows (for the relay to publish) in
    the same transaction, one per event or, with ``outbox_row_per_append``, one naming all its
    events; ``topic_by_stream_type`` sends the events of some stream types to another topic
    (e.g. access records). ``clock`` stamps ``recorded_at``/``time``. ``group_commit``
    (PostgreSQL): appends made concurrently in this process, without ``connection=``, share
    transactions (see ``group.py``); the answers are the same.
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
        group_commit: bool = True,
        outbox_row_per_append: bool = False,
    ) -> None:
        self._engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._own = _own_statements(engine)
        # PostgreSQL: the hottest round trips (version, stream, append) on asyncpg directly.
        self._driver = DriverConnections(self._own) if self._postgres else None
        self._source = source
        self._outbox_topic = outbox_topic
        self._outbox_row_per_append = outbox_row_per_append
        self._topic_by_stream_type = dict(topic_by_stream_type or {})
        self._clock = clock
        self._tracer = tracer or trace.get_tracer("naervaer.eventstore")
        self._service = service
        self._append_seconds = APPEND_SECONDS.labels(service=service)
        self._reader = EventReader(tables, source, engine.dialect)
        self._writer, self._group = self._write_path(tables, group_commit)
        self._versions, self._streams = self._read_groups()

    def _write_path(
        self, tables: EventStoreTables, group_commit: bool
    ) -> tuple[BatchWriter, GroupCommit | None]:
        """PostgreSQL: one statement per append, grouped under concurrency; SQLite: several
        statements in one transaction."""
        engine, own, reader, source = self._engine, self._own, self._reader, self._source
        if not self._postgres:
            return BatchWriter(engine, own, SqliteAppender(tables), reader, source), None
        assert self._driver is not None
        postgres = PostgresAppender(tables, engine.dialect, reader)
        writer = BatchWriter(engine, own, postgres, reader, source)
        group = GroupCommit(own, self._driver, postgres, writer) if group_commit else None
        return writer, group

    def _read_groups(
        self,
    ) -> tuple[ReadGroup[int, int] | None, ReadGroup[list[Record], list[Envelope]] | None]:
        """PostgreSQL: a command's reads before its append, gathered under concurrency."""
        if self._driver is None:
            return None, None
        reader = self._reader
        versions = ReadGroup(
            self._driver, reader.driver_version, reader.driver_versions, _version_or_zero
        )
        streams = ReadGroup(
            self._driver, reader.driver_stream, reader.driver_streams, reader.envelopes
        )
        return versions, streams

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
        group = self._group if connection is None else None
        if group is not None and len(events) >= MAKE_WAY_AT:
            await group.make_way()
        # What ``start_as_current_span`` does, in one context manager instead of three. Where
        # the append's span could never be recorded it is not started: under an unsampled
        # parent the parent's context serves (its trace id goes on with the events); without a
        # parent, where the root is off, fresh unsampled ids do, as the SDK's span had them, so
        # the events still carry a trace id of their own.
        unrecorded = unrecorded_span_or_root(self._tracer, None)
        if unrecorded is not None:
            span = unrecorded
        else:
            span = self._tracer.start_span("eventstore.append", attributes=attributes)
        with trace.use_span(span, end_on_exit=True):
            started = perf_counter()  # as ``Histogram.time()``, without its objects
            try:
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
                    traced=span.get_span_context().is_valid,
                )
                if group is not None:
                    result = await group.write(batch)
                else:
                    result = await self._writer.write(batch, connection)
            finally:
                self._append_seconds.observe(perf_counter() - started)
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
        async with self._own.connect() as conn:
            logged = await self._reader.logged_command(conn, command_id)
            if logged is None:
                return None
            same_request(command_id, logged.fingerprint, fingerprint)
            return await self._writer.first_result(conn, command_id, logged.stream_id)

    async def read_stream(
        self, stream_id: str, *, to_version: int | None = None, as_of: datetime | None = None
    ) -> list[Envelope]:
        """The stream's events in version order, up to ``to_version`` / recorded by ``as_of``."""
        if to_version is None and as_of is None and self._streams is not None:
            # A command loading its aggregate: the cheapest round trip (see ``driver.py``),
            # shared with the commands loading theirs meanwhile (``read_group.py``).
            return await self._streams.read(stream_id)
        async with self._own.connect() as conn:
            return await self._reader.stream(conn, stream_id, to_version=to_version, as_of=as_of)

    async def stream_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it does not exist."""
        if self._versions is not None:  # read before every command's append: the cheapest way
            return await self._versions.read(stream_id)
        async with self._own.connect() as conn:
            return await self._reader.version(conn, stream_id)

    async def read_all(
        self,
        after_position: int = 0,
        limit: int = 1000,
        *,
        stream_types: Collection[str] | None = None,
        exclude_stream_types: Collection[str] = (),
        tenants: Collection[str] | None = None,
        up_to: int | None = None,
    ) -> list[Envelope]:
        """Events after ``after_position`` in global position order, optionally only of (or
        not of) some stream types — the embedded transport's view of one topic — and only of
        some tenants up to a position (a share of a rebuild in several processes)."""
        async with self._own.connect() as conn:
            return await self._reader.log(
                conn, after_position, limit, stream_types, exclude_stream_types, tenants, up_to
            )

    async def tenant_counts(
        self,
        up_to: int,
        *,
        stream_types: Collection[str] | None = None,
        exclude_stream_types: Collection[str] = (),
    ) -> dict[str, int]:
        """Each tenant's events up to global position ``up_to`` (optionally only of, or not
        of, some stream types): what a rebuild in several processes shares out."""
        async with self._own.connect() as conn:
            return await self._reader.tenant_counts(conn, up_to, stream_types, exclude_stream_types)

    async def refresh_log_statistics(self) -> None:
        """PostgreSQL: gather the planner's statistics of the global log (the columns a read
        of it filters and orders on), for a reader about to go through all of it: a rebuild.

        A log filled faster than autovacuum analyses it (an import, a store filled since it
        was last analysed) is planned for as it was then: a read of the next events of a
        rebuild's share, believed to match a few hundred rows, scanned every event up to the
        share's end and sorted the matches to return a thousand, so the reads grew with the
        square of the log (issue 8, thirty-fifth round: 41 ms a read at 200 000 events, a
        quarter of the database's time). Analysed, the read measured walked the log in
        position order and stopped at the thousandth match. On SQLite it does nothing."""
        if not self._postgres:
            return
        async with self._own.connect() as conn:
            await self._reader.refresh_log_statistics(conn)

    async def head_position(self) -> int:
        """The global position of the last committed event; 0 for an empty store."""
        async with self._own.connect() as conn:
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
        traced: bool,
    ) -> AppendBatch:
        if not events:
            raise ValueError("append needs at least one event")
        if expected_version is not None and expected_version < 0:
            raise ValueError(f"expected_version must be >= 0, got {expected_version}")
        recorded_at = self._clock()
        if recorded_at.tzinfo is None:
            raise ValueError("the store's clock must return timezone-aware datetimes")
        pending = pending_events(events)
        carrier: dict[str, str] = {}
        if traced:  # no trace to continue (no tracer provider): no traceparent, nothing to do
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
            row_per_append=self._outbox_row_per_append,
        )


def _version_or_zero(found: int | None) -> int:
    return found or 0


def _own_statements(engine: AsyncEngine) -> AsyncEngine:
    """The engine for work the store does on its own: autocommit on PostgreSQL (one round trip
    a statement). SQLite keeps its transactions: ``BEGIN IMMEDIATE`` orders its writers."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")
