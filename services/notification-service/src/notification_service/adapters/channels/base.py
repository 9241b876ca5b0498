"""What every channel gets (an ``Outgoing`` message) and how it says it failed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from notification_service.adapters.rendering import RenderedMessage


class DeliveryFailed(Exception):
    """Sending failed; ``permanent`` failures are not retried (e.g. an address refused)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """One rendered message on its way to one recipient through one channel."""

    delivery_id: UUID
    tenant: str
    case_id: str | None
    audience: str
    recipient_id: str
    stage: str
    template: str
    language: str
    message: RenderedMessage
    display_name: str | None = None
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    facts: Mapping[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    """A channel: delivers the message or raises ``DeliveryFailed``."""

    async def send(self, outgoing: Outgoing) -> None: ...


def http_failure(status: int, what: str) -> DeliveryFailed | None:
    """None for 2xx; otherwise the failure: 408, 429 and 5xx are worth retrying, 4xx not."""
    if 200 <= status < 300:
        return None
    retry = status in (408, 425, 429) or status >= 500
    return DeliveryFailed(f"{what} answered HTTP {status}", permanent=not retry)
