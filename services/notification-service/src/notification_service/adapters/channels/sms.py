"""SMS through a provider behind a small interface; one HTTP JSON implementation."""

from __future__ import annotations

from typing import Protocol

import httpx

from notification_service.adapters.channels.base import DeliveryFailed, Outgoing, http_failure


class SmsProvider(Protocol):
    """Sends one text; ``reference`` (the delivery id) lets the provider drop a repeat."""

    async def send_sms(self, to: str, text: str, *, reference: str) -> None: ...


class HttpJsonSmsProvider:
    """POSTs ``{"to", "text", "sender", "reference"}`` as JSON, with an optional bearer token."""

    def __init__(
        self, client: httpx.AsyncClient, url: str, *, sender: str, token: str | None = None
    ) -> None:
        self._client = client
        self._url = url
        self._sender = sender
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def send_sms(self, to: str, text: str, *, reference: str) -> None:
        body = {"to": to, "text": text, "sender": self._sender, "reference": reference}
        try:
            response = await self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as error:
            raise DeliveryFailed(f"SMS provider unreachable: {error!r}", permanent=False) from error
        failure = http_failure(response.status_code, "the SMS provider")
        if failure is not None:
            raise failure


class SmsSender:
    """The SMS channel: the recipient's phone number and the template's SMS part."""

    def __init__(self, provider: SmsProvider | None) -> None:
        self._provider = provider

    async def send(self, outgoing: Outgoing) -> None:
        if self._provider is None:
            raise DeliveryFailed(
                "SMS is not configured (NAERVAER_NOTIFICATION_SMS_URL)", permanent=True
            )
        if not outgoing.phone:
            raise DeliveryFailed(f"no phone number for {outgoing.recipient_id}", permanent=True)
        await self._provider.send_sms(
            outgoing.phone, outgoing.message.sms, reference=str(outgoing.delivery_id)
        )
