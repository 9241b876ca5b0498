"""What a consumer subscribes to and what became of each message."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]
"""Applies one event; runs inside the consumer's database transaction (with the inbox row)."""

BatchHandler = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]
"""Applies several new events at once, in order, in one transaction with their inbox rows.

It must leave exactly what ``Handler`` per event, in the same order, would have left."""


@dataclass(frozen=True)
class Subscription:
    """One consumer: its group name, the topics it reads and the handler of their events.

    ``name`` is the inbox/checkpoint key and, under the topic prefix, the Kafka consumer group
    (``consumer_group``), e.g. ``deadline-service.case-projection``. ``event_types`` limits
    the handler to those types; other events are acknowledged without calling it.
    ``batch_handler``, when given, takes the new events of a fetched batch in one call (a
    projection that folds each case once per batch); without it the consumer calls ``handler``
    per event in the batch's transaction.
    """

    name: str
    topics: tuple[str, ...]
    handler: Handler
    event_types: frozenset[str] | None = None
    batch_handler: BatchHandler | None = None

    def wants(self, event_type: str) -> bool:
        return self.event_types is None or event_type in self.event_types


class Outcome(enum.StrEnum):
    """What processing one message came to (the ``outcome`` label of the metrics)."""

    HANDLED = "handled"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"
    DEAD_LETTERED = "dead_lettered"


class SimulatedCrash(RuntimeError):
    """Raised by the ``crash_before_ack`` test hook: committed, but never acknowledged."""
