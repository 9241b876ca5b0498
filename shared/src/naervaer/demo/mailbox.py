"""The demo's mail catcher: a real SMTP server on 127.0.0.1 that keeps what it receives.

The notification service sends its reminders to it exactly as to a production relay (SMTP over
TCP, no TLS), so what the demo shows is what a mailbox would have received. It is aiosmtpd's SMTP
protocol served on the demo's own event loop: no thread, and the port is picked by the kernel.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class CaughtMail:
    """One received message: who it went to (name, else address), subject, plain text."""

    to: str
    subject: str
    text: str

    @classmethod
    def parse(cls, raw: bytes) -> CaughtMail:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        body = message.get_body(preferencelist=("plain",))
        name, address = parseaddr(str(message["To"]))
        return cls(
            to=name or address,
            subject=" ".join(str(message["Subject"]).split()),  # unfolded
            text=body.get_content() if body is not None else "",
        )


@dataclass
class Mailbox:
    """What the catcher received, oldest first; ``port`` is where it listens."""

    port: int = 0
    mails: list[CaughtMail] = field(default_factory=list)

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook (its name): a message arrived whole."""
        raw = envelope.original_content or b""
        self.mails.append(CaughtMail.parse(raw))
        return "250 Message accepted for delivery"


@asynccontextmanager
async def mail_catcher(host: str = "127.0.0.1") -> AsyncIterator[Mailbox]:
    """Serve SMTP on a free port of ``host`` until the block ends."""
    mailbox = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(mailbox, hostname="naervaer-demo", enable_SMTPUTF8=True), host, 0
    )
    mailbox.port = int(server.sockets[0].getsockname()[1])
    try:
        yield mailbox
    finally:
        server.close()
        await server.wait_closed()
