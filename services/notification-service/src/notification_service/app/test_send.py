"""A test message (testmelding), sent by HR to check a recipient's address and channel."""

from __future__ import annotations

import uuid
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.clock import Clock
from notification_service.adapters import deliveries
from notification_service.domain.planning import Notice
from notification_service.domain.vocabulary import HR_RECIPIENT, Channel


async def request_test_send(
    engine: AsyncEngine, clock: Clock, tenant: str, party_id: str, channel: Channel
) -> UUID:
    """Record a test delivery due now; the worker sends it like any other (no quiet hours:
    HR asked for it this minute)."""
    now = clock.now()
    notice = Notice(
        subject_key=f"test:{uuid.uuid4()}",
        stage="test",
        audience="hr" if party_id == HR_RECIPIENT else "employee",
        recipient_id=party_id,
        channel=channel,
        template="test_message",
        facts={},
        send_after=now,
    )
    return await deliveries.create_now(engine, tenant, notice, now=now)
