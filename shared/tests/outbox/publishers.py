"""The relay tests' publisher: it records what the relay hands it, and can fail or be held."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from naervaer.envelope import Envelope
from naervaer.outbox import OutgoingMessage


class RecordingPublisher:
    """In-memory publisher; ``fail`` makes every publish raise, ``gate`` holds it open
    (``entered`` tells one began); ``sizes``: how many messages each publish carried."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.sent: list[OutgoingMessage] = []
        self.sizes: list[int] = []
        self.fail = False
        self.gate = gate
        self.entered = asyncio.Event()

    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("broker unreachable")
        self.sent.extend(messages)
        self.sizes.append(len(messages))

    def data(self) -> list[object]:
        """The ``data`` of each event sent, in order."""
        return [Envelope.from_json_bytes(m.value).data for m in self.sent]
