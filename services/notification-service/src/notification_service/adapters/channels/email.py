"""Email over SMTP (aiosmtplib): one message per delivery, Message-ID = the delivery id.

A retried delivery carries the same Message-ID, so a mail system that saw the first copy
(accepted just before we crashed, say) can recognise the second as a duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from notification_service.adapters.channels.base import DeliveryFailed, Outgoing
from notification_service.config import NotificationServiceSettings


class EmailSender:
    def __init__(self, settings: NotificationServiceSettings) -> None:
        self._settings = settings
        self._from = settings.smtp_from
        domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2]
        self._domain = domain or "naervaer.invalid"

    async def send(self, outgoing: Outgoing) -> None:
        settings = self._settings
        if settings.smtp_host is None:
            raise DeliveryFailed(
                "email is not configured (NAERVAER_NOTIFICATION_SMTP_HOST)", permanent=True
            )
        if not outgoing.email:
            raise DeliveryFailed(f"no email address for {outgoing.recipient_id}", permanent=True)
        message = self.build(outgoing)
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                use_tls=settings.smtp_security == "tls",
                start_tls=settings.smtp_security == "starttls",
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                validate_certs=settings.smtp_validate_certs,
                timeout=settings.smtp_timeout_s,
            )
        except aiosmtplib.SMTPException as error:
            raise _failure(error) from error
        except OSError as error:
            raise DeliveryFailed(f"SMTP server unreachable: {error}", permanent=False) from error

    def build(self, outgoing: Outgoing) -> EmailMessage:
        """The MIME message: plain text with an HTML alternative."""
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = formataddr((outgoing.display_name or "", outgoing.email or ""))
        message["Subject"] = outgoing.message.subject
        message["Message-ID"] = f"<{outgoing.delivery_id}@{self._domain}>"
        message["Date"] = format_datetime(datetime.now(UTC))
        # Tells autoresponders not to answer (RFC 3834).
        message["Auto-Submitted"] = "auto-generated"
        message["X-Naervaer-Delivery-Id"] = str(outgoing.delivery_id)
        message.set_content(outgoing.message.text)
        message.add_alternative(outgoing.message.html, subtype="html")
        return message


_REFUSALS = (
    aiosmtplib.SMTPRecipientsRefused,
    aiosmtplib.SMTPRecipientRefused,
    aiosmtplib.SMTPDataError,
)


def _failure(error: aiosmtplib.SMTPException) -> DeliveryFailed:
    # A refused recipient or message (5xx) will be refused again; anything else (4xx, a
    # dropped connection, a timeout, a login problem being fixed) is worth another try.
    code = getattr(error, "code", None)
    refused = isinstance(error, _REFUSALS)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        code = min((r.code for r in error.recipients), default=None)
    permanent = refused and isinstance(code, int) and code >= 500
    return DeliveryFailed(f"SMTP: {error}", permanent=permanent)
