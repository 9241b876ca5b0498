"""The outside world of the notification service: an SMTP server and the HR suite's webhook
receiver, both real servers on 127.0.0.1 that count every copy by its delivery id
(``X-Naervaer-Delivery-Id``), the id a receiver drops repeats by."""

from __future__ import annotations

import threading
from collections import Counter
from email import message_from_bytes
from email import policy as email_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from naervaer.testing.servers import free_port

DELIVERY_ID_HEADER = "X-Naervaer-Delivery-Id"


class Copies:
    """Delivery ids received, with how many copies of each (thread-safe)."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, delivery_id: str) -> None:
        with self._lock:
            self._counts[delivery_id] += 1

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)


class SmtpServer:
    """aiosmtpd's ``Controller``: accepts every message and counts it by delivery id."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        self.copies = Copies()
        self._controller = Controller(self, hostname=self.host, port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        """aiosmtpd's hook (its name): one whole message arrived."""
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        self.copies.add(str(message.get(DELIVERY_ID_HEADER, "")))
        return "250 OK"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


class WebhookReceiver:
    """A threaded HTTP server taking the tenant's webhook POSTs (204), counted by delivery id."""

    path = "/hooks/naervaer"

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.copies = Copies()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.path}"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        copies, path = self.copies, self.path

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path == path:
                    copies.add(str(self.headers.get(DELIVERY_ID_HEADER, "")))
                self.send_response(204 if self.path == path else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass  # keep the test output clean

        return Handler
