"""Real receivers for the notification channels: an SMTP server that demands a password and a
webhook endpoint, each recording exactly what arrived (raw bytes and SMTP envelope)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from naervaer.testing.servers import free_port


@dataclass(frozen=True)
class Mail:
    """One message as the SMTP server saw it: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> Message:
        return message_from_bytes(self.raw, policy=policy.default)

    def header_lines(self, name: str) -> list[bytes]:
        """Every raw header line named ``name`` (before the first empty line)."""
        head = self.raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
        prefix = name.lower().encode() + b":"
        return [line for line in head.split(b"\n") if line.lower().startswith(prefix)]


@dataclass
class SmtpReceiver:
    """aiosmtpd on a free port; AUTH over plain SMTP with one user and password."""

    username: str
    password: str
    port: int = field(default_factory=free_port)
    mails: list[Mail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    _controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,  # offered in plain text; the services log in when configured
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == self.username
            and data.password.decode() == self.password
        )
        if ok:
            self.logins.append(self.username)
        return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A threaded HTTP server answering every POST with 200 and keeping what it got."""

    def __init__(self) -> None:
        self.hooks: list[Hook] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/naervaer"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.hooks.append(Hook(self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass  # the test's own server: nothing of it belongs in the services' logs

        return Handler
