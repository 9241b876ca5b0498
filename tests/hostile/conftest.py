"""One hosted platform for the hostile tests: the four services on SQLite (embedded transport),
with email through a real SMTP server that demands a password, and no rate limit.

Secrets are made up per session, so finding one in a log or an answer can only mean a leak.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from .hosting import QUIET_ENV, Platform, hosted_platform, platform_settings
from .receivers import SmtpReceiver, WebhookReceiver

SMTP_USER = "naervaer-mailer"
SMTP_PASSWORD = f"smtp-pw-{secrets.token_hex(12)}"
WEBHOOK_SECRET = f"whsec-{secrets.token_hex(16)}"


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(SMTP_USER, SMTP_PASSWORD)
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture(scope="session")
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def mail_env(smtp: SmtpReceiver) -> dict[str, str]:
    """The notification service sending through ``smtp`` at once, retrying quickly."""
    prefix = "NAERVAER_NOTIFICATION_"
    return {
        **QUIET_ENV,
        f"{prefix}SMTP_HOST": "127.0.0.1",
        f"{prefix}SMTP_PORT": str(smtp.port),
        f"{prefix}SMTP_SECURITY": "none",
        f"{prefix}SMTP_USERNAME": SMTP_USER,
        f"{prefix}SMTP_PASSWORD": SMTP_PASSWORD,
        f"{prefix}SMTP_TIMEOUT_S": "5",
        f"{prefix}WORKER_POLL_INTERVAL_S": "0.05",
        f"{prefix}RETRY_BASE_S": "0.05",
        f"{prefix}RETRY_CAP_S": "0.2",
    }


@pytest.fixture(scope="session")
async def platform(
    tmp_path_factory: pytest.TempPathFactory, smtp: SmtpReceiver
) -> AsyncIterator[Platform]:
    settings = platform_settings(tmp_path_factory.mktemp("hostile-platform"))
    async with hosted_platform(settings, mail_env(smtp)) as hosted:
        yield hosted
