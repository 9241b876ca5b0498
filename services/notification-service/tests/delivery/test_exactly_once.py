"""Exactly once per (obligation or event, stage, recipient, channel), against a real SMTP
server and a real HTTP receiver, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from notification_service.adapters import deliveries
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.signature import verify

from ..conftest import Harness, make_harness, worker_settings
from ..support import HttpReceiver, SmtpServer, deadline_payload, envelope, eventually

pytestmark = pytest.mark.integration
SECRET = "tenant-secret-0123456789"


@contextlib.asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[None]:
    """The delivery worker as the runtime runs it: a background task until stopped."""
    stop = asyncio.Event()
    task = asyncio.create_task(harness.worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def test_a_redelivered_event_sends_one_email(harness: Harness, smtp: SmtpServer) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com", display_name="Kari Leder")
    await harness.recipient("emp-1", email="ola@example.com", display_name="Ola", language="en")
    event = envelope(*deadline_payload("approaching"), stream="case-1")
    announced_again = envelope(*deadline_payload("approaching"), stream="case-1")

    assert await harness.on_deadline(event)
    assert not await harness.on_deadline(event)  # redelivered: the inbox knows it
    assert await harness.on_deadline(announced_again)  # same obligation and stage, new id
    assert await harness.drain() == 2
    assert await harness.drain() == 0

    sent = {m["To"]: m for m in smtp.messages}
    assert set(sent) == {"Kari Leder <leder@example.com>", "Ola <ola@example.com>"}
    assert sent["Ola <ola@example.com>"]["Subject"] == "Invitation to a follow-up conversation"
    manager_mail = sent["Kari Leder <leder@example.com>"]
    assert manager_mail["Subject"] == "Påminnelse: oppfølgingsplan for Ola innen 17. mars 2026"
    rows = await harness.deliveries()
    assert [r.status for r in rows] == ["sent", "sent"]
    assert manager_mail["Message-ID"] == f"<{rows[1].id}@naervaer.invalid>"


async def test_smtp_down_for_a_while_is_delivered_later_once(
    engine,
    clock,
    vault,
    smtp: SmtpServer,  # type: ignore[no-untyped-def]
) -> None:
    # Enough attempts that the outage cannot exhaust them before the server is up.
    harness = make_harness(engine, clock, worker_settings(smtp.port, max_attempts=100), vault)
    await harness.recipient("mgr-1", email="leder@example.com")
    await harness.on_deadline(envelope(*deadline_payload("due", "dialogue_meeting_1"), stream="c"))

    async def failed_twice() -> bool:
        return len(await harness.attempts()) >= 2

    async with running(harness):
        await eventually(failed_twice, what="two failed attempts")
        (row,) = await harness.deliveries()
        assert row.status in ("pending", "sending")
        assert "Error connecting to 127.0.0.1" in row.last_error
        smtp.start()

        async def sent() -> bool:
            return [r.status for r in await harness.deliveries()] == ["sent"]

        await eventually(sent, what="delivery after SMTP came back")
    assert len(smtp.messages) == 1
    outcomes = [a.outcome for a in await harness.attempts()]
    assert outcomes[-1] == "sent"
    assert set(outcomes[:-1]) == {"retry"}


async def test_webhook_failing_three_times_is_delivered_once_after_four_attempts(
    harness: Harness,
) -> None:
    with HttpReceiver(statuses=[500, 500, 500]) as receiver:
        policy = TenantPolicy(hr_channels=frozenset({"webhook"}), webhook_url=f"{receiver.url}/h")  # type: ignore[arg-type]
        await harness.policy(policy, secret=SECRET)
        await harness.on_deadline(envelope(*deadline_payload("overdue"), stream="case-1"))

        async def settled() -> bool:
            return [r.status for r in await harness.deliveries()] == ["sent"]

        async with running(harness):
            await eventually(settled, what="webhook delivered")
    (row,) = await harness.deliveries()
    assert (row.channel, row.recipient_id, row.attempts) == ("webhook", "hr", 4)
    assert [a.outcome for a in await harness.attempts()] == ["retry", "retry", "retry", "sent"]
    assert row.last_error == "the webhook answered HTTP 500"
    assert len(receiver.requests) == 4
    assert {r.headers["X-Naervaer-Delivery-Id"] for r in receiver.requests} == {str(row.id)}
    for request in receiver.requests:
        payload = verify(
            SECRET,
            request.body,
            request.headers["X-Naervaer-Signature"],
            now=float(request.headers["X-Naervaer-Timestamp"]),
        )
        assert payload["facts"]["kind"] == "follow_up_plan"  # type: ignore[index]
        assert payload["subject"] == "Fristen er passert: oppfølgingsplan for den sykmeldte"


async def test_a_send_cut_off_by_a_crash_is_retried_after_its_lease(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com")
    await harness.on_deadline(envelope(*deadline_payload("due"), stream="case-1"))
    # A worker marked it 'sending' and died: whether its SMTP call went through is unknown.
    lease = timedelta(seconds=30)
    assert await deliveries.claim_next(harness.engine, harness.clock.now(), lease) is not None
    assert not await harness.worker.run_once()  # still leased to the dead worker
    harness.clock.advance(lease + timedelta(seconds=1))
    assert await harness.drain() == 1
    assert [a.outcome for a in await harness.attempts()] == ["abandoned", "sent"]
    (row,) = await harness.deliveries()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.messages) == 1


async def test_a_permanent_failure_is_recorded_and_not_retried(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    await harness.on_deadline(envelope(*deadline_payload("due"), stream="case-1"))
    assert await harness.drain() == 1
    (row,) = await harness.deliveries()
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "no email address for mgr-1"
    assert smtp.messages == []


async def test_retries_give_up_after_max_attempts(harness: Harness, engine, clock) -> None:  # type: ignore[no-untyped-def]
    with HttpReceiver(default=503) as receiver:
        harness = make_harness(engine, clock, worker_settings(1, max_attempts=3), harness.vault)
        policy = TenantPolicy(hr_channels=frozenset({"webhook"}), webhook_url=receiver.url)  # type: ignore[arg-type]
        await harness.policy(policy, secret=SECRET)
        await harness.on_deadline(envelope(*deadline_payload("overdue"), stream="case-1"))

        async def settled() -> bool:
            return [r.status for r in await harness.deliveries()] == ["failed"]

        async with running(harness):
            await eventually(settled, what="giving up")
    (row,) = await harness.deliveries()
    assert row.last_error == "gave up after 3 attempts: the webhook answered HTTP 503"
    assert len(receiver.requests) == 3


async def test_sms_through_the_http_provider(engine, clock, vault) -> None:  # type: ignore[no-untyped-def]
    with HttpReceiver() as provider:
        settings = worker_settings(1, sms_url=f"{provider.url}/sms", sms_token="tok")
        harness = make_harness(engine, clock, settings, vault)
        await harness.recipient("emp-1", phone="+4791234567", channels=["sms"])
        event = envelope(
            *deadline_payload("approaching", "activity_requirement", responsible="employee"),
            stream="c",
        )
        await harness.on_deadline(event)
        assert await harness.drain() == 1
    (request,) = provider.requests
    body = json.loads(request.body)
    (row,) = await harness.deliveries()
    assert body == {
        "to": "+4791234567",
        "text": "Nærvær: aktivitetsplikten vurderes 17. mars 2026. "
        "Snakk med lederen din om mulig aktivitet.",
        "sender": "Naervaer",
        "reference": str(row.id),
    }
    assert request.headers["Authorization"] == "Bearer tok"
