"""The idempotent consumer: a fetched batch in one transaction with its inbox rows, then one ack.

Delivery is at-least-once (offsets and checkpoints advance only after the transaction); the
inbox rows make the *effect* exactly-once. When a batch's transaction fails for a reason of its
messages, its messages are handled one by one, each in its own transaction: a failing handler
is retried with exponential backoff and full jitter, then the message goes to the dead letters
and the consumer moves on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
from collections.abc import Callable

import structlog
from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.db import GrowingTables
from naervaer.envelope import Envelope
from naervaer.messaging import inbox
from naervaer.messaging.batching import BatchSettler, Run, carrier, span_attributes, split_runs
from naervaer.messaging.dead_letters import DeadLetterSink, describe_error
from naervaer.messaging.source import IncomingMessage, MessageSource
from naervaer.messaging.subscription import Outcome, SimulatedCrash, Subscription
from naervaer.messaging.tables import ConsumerTables
from naervaer.observability import metrics
from naervaer.outages import is_outage
from naervaer.privacy.keyring import KEYRING, KeySource

log = structlog.get_logger(__name__)

MAX_RETRY_DELAY_S = 30.0
DATABASE_PROBE_TIMEOUT_S = 5.0


class Consumer:
    """Runs one subscription against one message source (Kafka or the embedded log)."""

    def __init__(
        self,
        subscription: Subscription,
        engine: AsyncEngine,
        tables: ConsumerTables,
        source: MessageSource,
        dead_letters: DeadLetterSink,
        *,
        service: str,
        max_attempts: int = 5,
        retry_base_s: float = 0.2,
        tracer: Tracer | None = None,
        crash_before_ack: Callable[[IncomingMessage], bool] | None = None,
        batch_size: int = 100,
        poll_timeout_s: float = 0.5,
        lag_interval_s: float = 5.0,
        keys: KeySource | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.subscription = subscription
        self._engine = engine
        self._tables = tables
        self._source = source
        self._dead_letters = dead_letters
        self._service = service
        self._max_attempts = max_attempts
        self._retry_base_s = retry_base_s
        self._tracer = tracer or trace.get_tracer("naervaer.messaging")
        self._crash_before_ack = crash_before_ack
        self._batch_size = batch_size
        self._poll_timeout_s = poll_timeout_s
        self._lag_interval_s = lag_interval_s
        self._keys = keys
        self._lag_reported_at = float("-inf")
        self._failures = 0  # consecutive restarts, for the restart backoff
        self._batches = BatchSettler(
            subscription, engine, tables, source, tracer=self._tracer, keys=keys
        )
        # A backlog fills the tables faster than autovacuum analyses them (``GrowingTables``).
        self._growing = GrowingTables(engine)
        self._settlements = metrics.CONSUMER_BATCHES.labels(service, subscription.name)

    @property
    def name(self) -> str:
        return self.subscription.name

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set; after an infrastructure failure, restart the source.

        A restart resumes from the committed offsets/checkpoints, so nothing is lost and the
        inbox absorbs what is delivered twice. ``SimulatedCrash`` ends the run at once.
        """
        try:
            await self._run(stop)
        finally:  # an analysis it began ends (or is cancelled) before the consumer does
            await self._growing.settled()

    async def _run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._source.start()
                await self._consume(stop)
            except SimulatedCrash:
                raise
            except Exception:
                self._failures += 1
                log.exception(
                    "consumer failed; restarting", consumer=self.name, failures=self._failures
                )
            finally:
                await self._stop_source()
            if self._failures and not stop.is_set():
                await _wait(stop, _backoff(self._retry_base_s, self._failures))

    async def process(self, message: IncomingMessage) -> Outcome:
        """Handle one message completely: transaction, metrics, then acknowledge."""
        with self._tracer.start_as_current_span(
            f"consume {message.topic}",
            context=propagate.extract(carrier(message)),
            kind=SpanKind.CONSUMER,
            attributes=span_attributes(message, self.name),
        ) as span:
            outcome = await self._settle(message, span)
            span.set_attribute("naervaer.outcome", outcome.value)
        metrics.MESSAGES_HANDLED.labels(self._service, self.name, outcome.value).inc()
        self._settlements.inc()  # alone: a batch of one
        if self._crash_before_ack is not None and self._crash_before_ack(message):
            raise SimulatedCrash(f"{self.name}: crashed before acknowledging {_where(message)}")
        await self._source.acknowledge(message)
        return outcome

    async def _consume(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            messages = await self._source.fetch(self._batch_size, self._poll_timeout_s)
            self._failures = 0  # the source works again: the next restart starts quickly
            for run in split_runs(messages):
                await self._process_run(run, stop)
                if stop.is_set():
                    return  # the rest is not acknowledged and will be delivered again
            self._growing.wrote(len(messages))
            await self._report_lag()

    async def _process_run(self, run: Run, stop: asyncio.Event) -> None:
        """Settle ``run`` in one transaction, or its messages one by one when that fails."""
        if run.alone:
            await self.process(run.messages[0])
            return
        try:
            outcomes = await self._batches.settle(run)
        except Exception as error:
            if await self._infrastructure_failed(error):
                raise  # not the messages' fault: restart instead of dead-lettering
            log.warning(
                "batch failed; handling its messages one by one",
                consumer=self.name,
                size=len(run.messages),
                error=describe_error(error),
            )
            for message in run.messages:
                await self.process(message)
                if stop.is_set():
                    return
            return
        # One increment per outcome, not per message: a label lookup costs more than the add.
        for outcome, count in collections.Counter(outcomes).items():
            metrics.MESSAGES_HANDLED.labels(self._service, self.name, outcome.value).inc(count)
        self._settlements.inc()
        if self._crash_before_ack is not None and any(map(self._crash_before_ack, run.messages)):
            raise SimulatedCrash(f"{self.name}: crashed before acknowledging a batch")
        await self._source.acknowledge_many(run.messages)

    async def _settle(self, message: IncomingMessage, span: Span) -> Outcome:
        try:
            envelope = Envelope.from_json_bytes(message.value)
        except ValueError as error:  # pydantic's ValidationError: not an envelope at all
            span.record_exception(error)
            return await self._dead_letter(message, error, attempts=1)
        span.set_attribute("messaging.message.id", str(envelope.id))
        with structlog.contextvars.bound_contextvars(
            consumer=self.name,
            tenant=envelope.tenant,
            case_id=envelope.streamid,
            event_type=envelope.type,
            event_id=str(envelope.id),
        ):
            if not self.subscription.wants(envelope.type):
                await self._advance(message)
                return Outcome.SKIPPED
            return await self._handle(message, envelope, span)

    async def _handle(self, message: IncomingMessage, envelope: Envelope, span: Span) -> Outcome:
        for attempt in range(1, self._max_attempts + 1):
            try:
                return await self._attempt(message, envelope)
            except Exception as error:
                if await self._infrastructure_failed(error):
                    raise  # not the message's fault: restart instead of dead-lettering
                self._count_failure(envelope, error, attempt, span)
                if attempt == self._max_attempts:
                    return await self._dead_letter(message, error, attempt)
                await asyncio.sleep(_backoff(self._retry_base_s, attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _infrastructure_failed(self, error: Exception) -> bool:
        """A lost connection or pool, or an error that looks like an outage (e.g. the bare
        ``ConnectionRefusedError`` asyncpg raises) while the database indeed does not answer:
        a handler's own network hiccup, with the database up, stays the handler's failure."""
        if _is_infrastructure_failure(error):
            return True
        return is_outage(error) and not await self._database_answers()

    async def _database_answers(self) -> bool:
        try:
            async with asyncio.timeout(DATABASE_PROBE_TIMEOUT_S), self._engine.connect() as db:
                await db.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def _attempt(self, message: IncomingMessage, envelope: Envelope) -> Outcome:
        if self._keys is not None:  # sealed personal values open with the employee's key
            await KEYRING.load([envelope], self._keys)
        async with self._engine.begin() as tx:
            if not await inbox.claim(tx, self._tables, self.name, envelope.id):
                await self._source.before_commit(tx, message)
                return Outcome.DUPLICATE
            await self.subscription.handler(tx, envelope)
            await self._source.before_commit(tx, message)
        return Outcome.HANDLED

    async def _advance(self, message: IncomingMessage) -> None:
        # Even a message we ignore moves the embedded checkpoint on.
        async with self._engine.begin() as tx:
            await self._source.before_commit(tx, message)

    async def _dead_letter(
        self, message: IncomingMessage, error: BaseException, attempts: int
    ) -> Outcome:
        # Recorded before the checkpoint/offset moves on: a crash in between at worst
        # dead-letters the message twice, never loses it.
        await self._dead_letters.send(message, error, attempts, consumer=self.name)
        await self._advance(message)
        trace.get_current_span().set_status(Status(StatusCode.ERROR, "dead-lettered"))
        log.error("message dead-lettered", where=_where(message), attempts=attempts)
        return Outcome.DEAD_LETTERED

    def _count_failure(
        self, envelope: Envelope, error: Exception, attempt: int, span: Span
    ) -> None:
        metrics.HANDLER_FAILURES.labels(self._service, self.name, envelope.type).inc()
        span.record_exception(error, attributes={"naervaer.attempt": attempt})
        log.warning(
            "handler failed",
            attempt=attempt,
            max_attempts=self._max_attempts,
            error=describe_error(error),
        )

    async def _report_lag(self) -> None:
        now = time.monotonic()
        if now - self._lag_reported_at < self._lag_interval_s:
            return
        self._lag_reported_at = now
        try:
            lags = await self._source.lag()
        except Exception as error:  # lag is for dashboards; never stop consuming for it
            log.warning("consumer lag unavailable", consumer=self.name, error=str(error))
            return
        for (topic, partition), lag in lags.items():
            metrics.CONSUMER_LAG.labels(self._service, self.name, topic, str(partition)).set(lag)

    async def _stop_source(self) -> None:
        try:
            await self._source.stop()
        except Exception:
            log.exception("message source did not stop cleanly", consumer=self.name)


def _is_infrastructure_failure(error: BaseException) -> bool:
    """A lost database connection or an exhausted pool, as opposed to the handler failing."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, sa_exc.DisconnectionError | sa_exc.TimeoutError)


def _backoff(base_s: float, attempt: int) -> float:
    """Exponential backoff with full jitter: uniform in [0, base * 2^(attempt-1)], capped."""
    return random.uniform(0, min(MAX_RETRY_DELAY_S, base_s * 2 ** (attempt - 1)))


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _where(message: IncomingMessage) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"
