"""Where a consumer's messages come from: Kafka, or a producing service's log (embedded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class IncomingMessage:
    """One message as the broker delivered it (the embedded transport mimics this shape)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def header(self, name: str) -> bytes | None:
        """The last value of header ``name`` (Kafka allows repeats; the last one wins)."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return found


class MessageSource(Protocol):
    """A stream of messages for one subscription, read in order per partition."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        """The next messages (at most ``max_messages``); empty after ``timeout_s`` of nothing."""
        ...

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None:
        """Record progress inside the consumer's transaction (the embedded checkpoint).

        A batch's transaction calls it once per partition, with that partition's last message."""
        ...

    async def acknowledge(self, message: IncomingMessage) -> None:
        """Mark ``message`` done after the transaction committed (the Kafka offset commit)."""
        ...

    async def acknowledge_many(self, messages: Sequence[IncomingMessage]) -> None:
        """``acknowledge`` for a batch settled in one transaction, at once (one offset commit).

        ``messages`` are in offset order per partition; each partition moves to its last."""
        ...

    async def lag(self) -> dict[tuple[str, int], int]:
        """Messages not yet acknowledged, per (topic, partition)."""
        ...
