"""What a consumer subscribes to and what became of each message."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope

Handler = Callable[[AsyncConnection, Envelope], Awaitable[None]]
"""Applies one event; runs inside the consumer's database transaction (with the inbox row)."""


@dataclass(frozen=True)
class Subscription:
    """One consumer: its group name, the topics it reads and the handler of their events.

    ``name`` is the Kafka consumer group and the inbox/checkpoint key, e.g.
    ``deadline-service.case-projection``. ``event_types`` limits the handler to those types;
    other events are acknowledged without calling it.
    """

    name: str
    topics: tuple[str, ...]
    handler: Handler
    event_types: frozenset[str] | None = None

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
