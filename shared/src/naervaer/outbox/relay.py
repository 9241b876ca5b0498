"""The outbox relay (utboks-relé): publishes committed events to Kafka, in order.

Rows are marked published only after the broker acknowledged the whole batch, so a crash or
an outage means a resend, never a loss (at-least-once; consumers deduplicate by event id).
On PostgreSQL one relay replica leads: it holds a session advisory lock on a connection of its
own, and each drain is two statements on it (read the pending rows, mark them published), with
no transaction to open and close and no lock to take again (issue 8: a drain was five round
trips, and at a few hundred appends a second the relay drains once per append). Another
replica takes over, at its next poll, when the leader's connection ends. LISTEN wakes the
leading relay as soon as an append to its own schema commits (a replica that does not lead
waits for its poll); SQLite (one process) polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.eventstore import NOTIFY_CHANNEL, EventStoreTables
from naervaer.observability.metrics import (
    OUTBOX_BATCHES,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
    OUTBOX_PUBLISH_FAILURES,
    OUTBOX_PUBLISHED,
)
from naervaer.observability.tracing import unrecorded_span_or_root
from naervaer.outbox.backoff import backoff_delay
from naervaer.outbox.listener import NotifyListener
from naervaer.outbox.messages import PendingRow, Publisher, PublishFailed, to_message
from naervaer.outbox.rows import OutboxLag, OutboxRows

log = structlog.get_logger(__name__)

# The leader's session: a leader whose host died or was cut off without closing its
# connection would keep the lock until the server's TCP keepalive gave up (two hours by the
# kernel's default); probes after 10 s idle, three 5 s apart, end it in about 25 s.
_KEEPALIVES = text(
    "SELECT set_config('tcp_keepalives_idle', '10', false), "
    "set_config('tcp_keepalives_interval', '5', false), "
    "set_config('tcp_keepalives_count', '3', false)"
)


class OutboxRelay:
    """Moves outbox rows to the broker until stopped, riding out broker outages.

    ``source`` is the envelope source of the events (default ``/<service>``, as the store's).
    ``linger_s``: how long the relay, woken by an append's NOTIFY (or the listener's catch-up
    on connecting), waits before it drains, so that the appends of those moments go in the same
    batch: drains that appends wake come at least this far apart (``NAERVAER_OUTBOX_LINGER_MS``;
    issue 8, next step 46). It counts from when the relay turns to the wake, after the drain in
    progress, not from the NOTIFY as Kafka's ``linger.ms`` counts from a batch's first record:
    counted from the NOTIFY, most of it had passed during the last drain at 200 appends a
    second, and the batches did not grow (BENCHMARKS.md, thirty-fourth round).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        tables: EventStoreTables,
        publisher: Publisher,
        *,
        service: str,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        linger_s: float = 0.0,
        tracer: trace.Tracer | None = None,
        source: str | None = None,
        retry_base_s: float = 0.2,
        retry_cap_s: float = 30.0,
    ) -> None:
        self._engine = engine
        self._publisher = publisher
        self._service = service
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._linger_s = linger_s
        self._tracer = tracer or trace.get_tracer("naervaer.outbox")
        self._retry = (retry_base_s, retry_cap_s)
        self._postgres = engine.dialect.name == "postgresql"
        self._rows = OutboxRows(tables, source or f"/{service}", postgres=self._postgres)
        self._leading: AsyncConnection | None = None  # PostgreSQL: holds the relay's lock
        self._published = OUTBOX_PUBLISHED.labels(service=service)
        self._batches_published = OUTBOX_BATCHES.labels(service=service)

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; errors are logged and retried with backoff."""
        wake = asyncio.Event()
        async with await self._wakeups(wake), contextlib.aclosing(self):
            failures, lag_reported = 0, 0.0
            while not stop.is_set():
                wake.clear()  # before draining: a NOTIFY during the drain is not lost
                try:
                    published = await self.drain_once()
                except Exception as error:
                    failures += 1
                    await self._after_failure(error, failures, stop)
                    continue
                failures = 0
                # The gauges need no more than one query per poll interval, however many
                # appends wake the relay in between.
                if time.monotonic() - lag_reported >= self._poll_interval_s:
                    await self._report_lag()
                    lag_reported = time.monotonic()
                if published < self._batch_size:
                    waker = self._wake_for(wake)
                    await _first_of(stop, waker, within_s=self._poll_interval_s)
                    if self._linger_s and waker is not None and waker.is_set():
                        # woken by an append: let the appends of the next moments join it
                        await _first_of(stop, None, within_s=self._linger_s)

    def _wake_for(self, wake: asyncio.Event) -> asyncio.Event | None:
        """What ends the wait between drains besides ``stop`` and the poll interval: the
        appends' NOTIFY, unless another replica leads. The leader answers those; a replica
        that does not lead tries for the lock at its poll only, not with a pooled connection
        and a statement at every append (issue 8, next step 34). It takes over within a poll
        interval of the leader going away; nothing is lost meanwhile, only sent later."""
        return None if self._postgres and self._leading is None else wake

    async def drain_once(self) -> int:
        """Publish the next batch of pending rows; return how many were published.

        Raises ``PublishFailed`` when the broker did not acknowledge them (they stay pending).
        On PostgreSQL the relay then leads, holding a connection, until ``aclose`` (``run``
        closes it; a caller of ``drain_once`` alone must). One drain at a time per relay.
        """
        if self._postgres:
            return await self._drain_leading()
        return await self._drain_unlocked()

    async def aclose(self) -> None:
        """Stop leading: the lock goes with the connection, which is closed, not pooled."""
        conn, self._leading = self._leading, None
        if conn is not None:
            await self._close_for_good(conn)

    async def _close_for_good(self, conn: AsyncConnection) -> None:
        """Close ``conn`` and its server session (and any lock it holds), never pooling it."""
        if not conn.invalidated:  # else SQLAlchemy closed it already (a lost connection)
            raw = None
            try:
                raw = (await conn.get_raw_connection()).driver_connection
                await conn.invalidate()
            except Exception as error:  # it may be what broke; the lock must still go
                log.warning("outbox.step_down_failed", service=self._service, error=repr(error))
                if raw is not None:
                    raw.terminate()
        await conn.close()

    async def lag(self) -> OutboxLag:
        """Pending rows and the age of the oldest; also sets the outbox gauges."""
        async with self._engine.connect() as conn:
            lag = await self._rows.lag(conn, datetime.now(UTC))
        OUTBOX_PENDING.labels(service=self._service).set(lag.pending)
        OUTBOX_OLDEST_AGE.labels(service=self._service).set(lag.oldest_age_s)
        return lag

    async def _drain_leading(self) -> int:
        # While this relay leads, no other replica sends these rows, or later ones; if its
        # connection ends mid-batch, the rows stay pending and the next leader sends them again.
        conn = await self._leadership()
        if conn is None:
            return 0
        try:
            batch = await self._rows.pending(conn, self._batch_size)
            if batch:
                await self._publish(batch)
                await self._rows.mark_published(conn, batch, datetime.now(UTC))
        except BaseException:
            await self.aclose()  # whatever failed, lead again from a fresh connection
            raise
        return self._count(batch)

    async def _leadership(self) -> AsyncConnection | None:
        """The connection this relay leads on; None while another replica leads."""
        if self._leading is not None:
            return self._leading
        conn = await self._engine.connect()
        try:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            leads = await self._rows.try_lead(conn)
            if leads:  # the server notices a leader gone silent in ~25 s, not hours
                await conn.execute(_KEEPALIVES)
        except BaseException:
            await self._close_for_good(conn)  # it may hold the lock
            raise
        if not leads:
            await conn.close()  # back to the pool: it holds no lock
            return None
        self._leading = conn
        return conn

    async def _drain_unlocked(self) -> int:
        # SQLite transactions take the write lock (BEGIN IMMEDIATE): never hold one while
        # waiting for the broker, or appends would stall behind it.
        async with self._engine.begin() as conn:
            batch = await self._rows.pending(conn, self._batch_size)
        if batch:
            await self._publish(batch)
            async with self._engine.begin() as conn:
                await self._rows.mark_published(conn, batch, datetime.now(UTC))
        return self._count(batch)

    async def _publish(self, batch: Sequence[PendingRow]) -> None:
        spans = [self._producer_span(row) for row in batch]
        try:
            await self._publisher.publish(
                [to_message(r, s) for r, s in zip(batch, spans, strict=True)]
            )
        except Exception as error:
            OUTBOX_PUBLISH_FAILURES.labels(service=self._service).inc()
            log.warning(
                "outbox.publish_failed",
                service=self._service,
                rows=len(batch),
                first_position=batch[0].position,
                error=repr(error),
            )
            for span in spans:
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, "not acknowledged"))
            raise PublishFailed(f"{len(batch)} outbox rows not acknowledged") from error
        finally:
            for span in spans:
                span.end()

    def _producer_span(self, row: PendingRow) -> trace.Span:
        """A PRODUCER span, child of the append that wrote the row: one trace end to end.

        Not started where nothing would record it: the record then carries the append's own
        context (its trace unsampled) or, for a row without one, fresh unsampled ids, so the
        consumers' logs keep one trace id."""
        context = propagate.extract(row.trace_carrier())
        if (unrecorded := unrecorded_span_or_root(self._tracer, context)) is not None:
            return unrecorded
        envelope = row.envelope
        return self._tracer.start_span(
            f"outbox.publish {row.topic}",
            context=context,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "publish",
                "messaging.destination.name": row.topic,
                "messaging.message.id": str(envelope.id),
                "messaging.kafka.message.key": row.key,
                "naervaer.global_position": row.position,
            },
        )

    def _count(self, batch: Sequence[PendingRow]) -> int:
        if batch:
            self._batches_published.inc()
            self._published.inc(len(batch))
        return len(batch)

    async def _after_failure(self, error: Exception, failures: int, stop: asyncio.Event) -> None:
        delay = backoff_delay(failures, base_s=self._retry[0], cap_s=self._retry[1])
        if not isinstance(error, PublishFailed):  # publish failures are logged where they occur
            log.warning("outbox.drain_failed", service=self._service, error=repr(error))
        log.info("outbox.retry_scheduled", service=self._service, attempt=failures, delay_s=delay)
        await self._report_lag()
        await _first_of(stop, None, within_s=delay)

    async def _report_lag(self) -> None:
        try:
            await self.lag()
        except Exception as error:  # the database may be the thing that is down
            log.warning("outbox.lag_failed", service=self._service, error=repr(error))

    async def _wakeups(self, wake: asyncio.Event) -> AbstractAsyncContextManager[object]:
        if not self._postgres:
            return contextlib.nullcontext()
        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        return NotifyListener(dsn, NOTIFY_CHANNEL, wake, payload=await self._schema())

    async def _schema(self) -> str | None:
        """The schema this relay's appends notify with (the payload ``current_schema()`` of
        the store's statement, run on the same engine); None: wake on every notification."""
        try:
            async with self._engine.connect() as conn:
                return str(await conn.scalar(text("SELECT coalesce(current_schema(), '')")))
        except Exception as error:  # the database may be down at start: polling still works
            log.warning("outbox.schema_unknown", service=self._service, error=repr(error))
            return None


async def _first_of(stop: asyncio.Event, wake: asyncio.Event | None, *, within_s: float) -> None:
    """Wait until ``stop`` or ``wake`` is set, or ``within_s`` seconds have passed."""
    waiters = [asyncio.create_task(event.wait()) for event in (stop, wake) if event is not None]
    try:
        await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
