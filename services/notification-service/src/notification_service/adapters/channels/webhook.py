"""Webhooks to the tenant's HR suite: signed JSON, one delivery id for every retry.

Headers: ``X-Naervaer-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` keyed with the
tenant's secret, ``X-Naervaer-Delivery-Id`` (the receiver's deduplication key) and
``X-Naervaer-Timestamp``. See ``notification_service.domain.signature.verify``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from notification_service.adapters.channels.base import DeliveryFailed, Outgoing, http_failure
from notification_service.domain.signature import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, unix_now: Callable[[], float]) -> None:
        self._client = client
        self._unix_now = unix_now

    async def send(self, outgoing: Outgoing) -> None:
        if not outgoing.webhook_url or not outgoing.webhook_secret:
            raise DeliveryFailed("the tenant has no webhook (URL and secret)", permanent=True)
        timestamp = int(self._unix_now())
        body = body_of(outgoing, timestamp)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(outgoing.webhook_secret, body),
            DELIVERY_ID_HEADER: str(outgoing.delivery_id),
            TIMESTAMP_HEADER: str(timestamp),
        }
        try:
            response = await self._client.post(outgoing.webhook_url, content=body, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"webhook unreachable: {error!r}", permanent=False) from error
        failure = http_failure(response.status_code, "the webhook")
        if failure is not None:
            raise failure


def body_of(outgoing: Outgoing, timestamp: int) -> bytes:
    """The JSON body: the rendered message and its facts (never health data)."""
    payload: dict[str, Any] = {
        "type": "notification",
        "delivery_id": str(outgoing.delivery_id),
        "tenant": outgoing.tenant,
        "case_id": outgoing.case_id,
        "audience": outgoing.audience,
        "recipient_id": outgoing.recipient_id,
        "stage": outgoing.stage,
        "template": outgoing.template,
        "language": outgoing.language,
        "subject": outgoing.message.subject,
        "text": outgoing.message.text,
        "facts": dict(outgoing.facts),
        "timestamp": timestamp,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
