"""Several workers (replicas) at once: each delivery is sent by exactly one of them."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from ..conftest import Harness, make_harness, worker_settings
from ..support import SmtpServer, deadline_payload, envelope

pytestmark = pytest.mark.integration


async def test_concurrent_workers_send_each_delivery_once(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com")
    for n in range(12):
        await harness.on_deadline(envelope(*deadline_payload("due", case_id=f"c-{n}"), stream="c"))
    others = [
        make_harness(harness.engine, harness.clock, worker_settings(smtp.port), harness.vault)
        for _ in range(2)
    ]

    attempts = await asyncio.gather(harness.drain(), *(other.drain() for other in others))

    assert sum(attempts) == 12
    ids = Counter(str(m["X-Naervaer-Delivery-Id"]) for m in smtp.messages)
    assert len(ids) == 12
    assert set(ids.values()) == {1}
    assert {r.status for r in await harness.deliveries()} == {"sent"}
