"""The outside world the notification service talks to: a real SMTP server and a real webhook
receiver (the tenant's HR suite), both on 127.0.0.1, both keeping what they were sent.

Each message is told apart by its delivery id (``X-Naervaer-Delivery-Id``), as a receiver that
deduplicates would; the tests count by it to prove that every reminder arrived exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from naervaer.testing.servers import free_port

DELIVERY_ID_HEADER = "X-Naervaer-Delivery-Id"
SIGNATURE_HEADER = "X-Naervaer-Signature"


@dataclass(frozen=True)
class Email:
    """One message the SMTP server accepted."""

    delivery_id: str
    message_id: str
    to: str
    subject: str


class _Mailbox:
    """aiosmtpd handler: keeps every accepted message (called on the controller's thread)."""

    def __init__(self) -> None:
        self.emails: list[Email] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        email = Email(
            delivery_id=str(message.get(DELIVERY_ID_HEADER, "")),
            message_id=str(message.get("Message-ID", "")),
            to=str(message.get("To", "")),
            subject=str(message.get("Subject", "")),
        )
        with self._lock:
            self.emails.append(email)
        return "250 OK"

    def snapshot(self) -> list[Email]:
        with self._lock:
            return list(self.emails)


class SmtpServer:
    """A real SMTP server (aiosmtpd ``Controller``) on 127.0.0.1; use it as a context manager."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self._mailbox = _Mailbox()
        self._controller = Controller(self._mailbox, hostname=self.host, port=self.port)

    @property
    def emails(self) -> list[Email]:
        return self._mailbox.snapshot()

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class Webhook:
    """One POST the receiver got: its delivery id, parsed body and whether the HMAC held."""

    delivery_id: str
    body: dict[str, Any]
    signature_valid: bool


class WebhookReceiver:
    """A real HTTP server in a thread, standing in for the tenant's HR suite.

    Checks each request's ``X-Naervaer-Signature`` (HMAC-SHA256 of the raw body with the
    shared secret) with the standard library only, as the notification README tells receivers.
    """

    path = "/hooks/naervaer"

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self._received: list[Webhook] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    @property
    def received(self) -> list[Webhook]:
        with self._lock:
            return list(self._received)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _keep(self, headers: Any, raw: bytes) -> None:
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        offered = str(headers.get(SIGNATURE_HEADER, ""))
        hook = Webhook(
            delivery_id=str(headers.get(DELIVERY_ID_HEADER, "")),
            body=json.loads(raw),
            signature_valid=hmac.compare_digest(expected, offered),
        )
        with self._lock:
            self._received.append(hook)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                found = self.path == receiver.path
                if found:
                    receiver._keep(self.headers, raw)
                self.send_response(204 if found else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass  # keep the test output clean

        return Handler
