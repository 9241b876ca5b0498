"""A fetched batch settled in one transaction: inbox rows, handler, checkpoints, then one ack.

The consumer splits each fetch into runs of messages that parse as envelopes; a message that
does not (poison) is a run of its own and goes the per-message way, to the dead letters. Runs
are settled one after the other in fetch order, so every partition's messages are settled in
offset order. Within a run the inbox (mottakslogg) claims all new events in one statement and
the subscription's batch handler, or its per-event handler in turn, applies them in fetch order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from uuid import UUID

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Tracer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from naervaer.envelope import Envelope
from naervaer.messaging import inbox
from naervaer.messaging.source import IncomingMessage, MessageSource
from naervaer.messaging.subscription import Outcome, Subscription
from naervaer.messaging.tables import ConsumerTables
from naervaer.observability.tracing import unrecorded_span
from naervaer.privacy.keyring import KEYRING, KeySource


@dataclass(frozen=True)
class Run:
    """Consecutive fetched messages that parsed as envelopes, or one poison message alone."""

    messages: list[IncomingMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)  # one per message; none for poison

    @property
    def alone(self) -> bool:
        """One message: the per-message way settles it (retries, dead letters, its own span)."""
        return len(self.messages) == 1


def split_runs(messages: Sequence[IncomingMessage]) -> Iterator[Run]:
    """``messages`` in fetch order, cut into runs at every message that is not an envelope."""
    run = Run()
    for message in messages:
        try:
            envelope = Envelope.from_json_bytes(message.value)
        except ValueError:  # pydantic's ValidationError: dead-lettered alone, in its place
            if run.messages:
                yield run
            yield Run([message])
            run = Run()
            continue
        run.messages.append(message)
        run.envelopes.append(envelope)
    if run.messages:
        yield run


def last_per_partition(messages: Sequence[IncomingMessage]) -> list[IncomingMessage]:
    """The last of ``messages`` on each (topic, partition): where the checkpoints end."""
    last = {(message.topic, message.partition): message for message in messages}
    return list(last.values())


def carrier(message: IncomingMessage) -> dict[str, str]:
    """The message's headers as a W3C trace-context carrier."""
    return {name: value.decode("utf-8", "replace") for name, value in message.headers}


def span_attributes(message: IncomingMessage, consumer: str) -> dict[str, str | int]:
    return {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": message.topic,
        "messaging.destination.partition.id": str(message.partition),
        "messaging.kafka.offset": message.offset,
        "messaging.consumer.group.name": consumer,
    }


class BatchSettler:
    """Settles a run of several messages in one database transaction.

    Each message keeps a ``consume <topic>`` span in its own trace (parented on the context in
    its headers, as the per-message way does), linked to the ``consume batch`` span of the
    transaction. The batch span does not link back to each message: building a link per
    message cost ~4 % of a busy consumer's CPU, and each message's span leads to it anyway.
    A per-event handler runs inside its message's span. A message whose span nothing would
    record (an unsampled trace under a parent-based sampler) gets none: its handler runs in
    the context from its headers (``unrecorded_span``).
    """

    def __init__(
        self,
        subscription: Subscription,
        engine: AsyncEngine,
        tables: ConsumerTables,
        source: MessageSource,
        *,
        tracer: Tracer,
        keys: KeySource | None,
    ) -> None:
        self._subscription = subscription
        self._engine = engine
        self._tables = tables
        self._source = source
        self._tracer = tracer
        self._keys = keys

    async def settle(self, run: Run) -> list[Outcome]:
        """Commit ``run``'s inbox rows, effects and checkpoints; the outcome of each message.

        Raises whatever failed, with nothing committed; nothing is acknowledged here."""
        contexts = [propagate.extract(carrier(message)) for message in run.messages]
        with self._tracer.start_as_current_span(
            "consume batch",
            kind=SpanKind.CONSUMER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.batch.message_count": len(run.messages),
                "messaging.consumer.group.name": self._subscription.name,
            },
        ) as batch_span:
            spans = [self._message_span(run, i, ctx, batch_span) for i, ctx in enumerate(contexts)]
            try:
                outcomes = await self._transaction(run, spans)
            except BaseException:
                for span in spans:
                    span.set_attribute("naervaer.batch.rolled_back", True)
                raise
            finally:
                for span in spans:
                    span.end()  # with its outcome when committed
            return outcomes

    async def _transaction(self, run: Run, spans: list[Span]) -> list[Outcome]:
        wanted = [i for i, e in enumerate(run.envelopes) if self._subscription.wants(e.type)]
        if self._keys is not None and wanted:  # sealed values open with the employees' keys
            await KEYRING.load([run.envelopes[i] for i in wanted], self._keys)
        outcomes = [Outcome.SKIPPED] * len(run.messages)
        async with self._engine.begin() as tx:
            fresh = await self._claim(tx, run, wanted)
            await self._apply(tx, run, fresh, spans)
            for message in last_per_partition(run.messages):
                await self._source.before_commit(tx, message)
        for i in wanted:
            outcomes[i] = Outcome.HANDLED if i in fresh else Outcome.DUPLICATE
        for span, outcome in zip(spans, outcomes, strict=True):
            span.set_attribute("naervaer.outcome", outcome.value)
        return outcomes

    async def _claim(self, tx: AsyncConnection, run: Run, wanted: list[int]) -> list[int]:
        """The indices of the events to apply: new to the inbox, first of their id in the run."""
        first: dict[UUID, int] = {}
        for i in wanted:
            first.setdefault(run.envelopes[i].id, i)
        claimed = await inbox.claim_many(tx, self._tables, self._subscription.name, list(first))
        return [i for event_id, i in first.items() if event_id in claimed]

    async def _apply(
        self, tx: AsyncConnection, run: Run, fresh: list[int], spans: list[Span]
    ) -> None:
        if not fresh:
            return
        if self._subscription.batch_handler is not None:
            await self._subscription.batch_handler(tx, [run.envelopes[i] for i in fresh])
            return
        for i in fresh:
            envelope = run.envelopes[i]
            with (
                trace.use_span(spans[i], end_on_exit=False),
                structlog.contextvars.bound_contextvars(
                    consumer=self._subscription.name,
                    tenant=envelope.tenant,
                    case_id=envelope.streamid,
                    event_type=envelope.type,
                    event_id=str(envelope.id),
                ),
            ):
                await self._subscription.handler(tx, envelope)

    def _message_span(self, run: Run, index: int, context: Context, batch: Span) -> Span:
        if (unrecorded := unrecorded_span(self._tracer, context)) is not None:
            return unrecorded  # nothing would record it: not started at all
        message = run.messages[index]
        attributes = span_attributes(message, self._subscription.name)
        attributes["messaging.message.id"] = str(run.envelopes[index].id)
        return self._tracer.start_span(
            f"consume {message.topic}",
            context=context,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=[Link(batch.get_span_context())],
        )
