"""The service as the runtime hosts it (embedded default): its consumers read the case and
deadline services' logs, and its background worker sends what they decided."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from naervaer.auth.devkeys import mint_token
from naervaer.db import create_engine
from naervaer.eventstore import EventStore, NewEvent
from naervaer.migrations import target_for, upgrade
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services
from naervaer.settings import PlatformSettings
from notification_service.bootstrap import SERVICE

from ..support import MovableClock, SmtpServer, case_1_with_a_meeting, deadline_payload, eventually

pytestmark = pytest.mark.integration


async def append(
    platform: PlatformSettings, spec: ServiceSpec, stream: str, *events: NewEvent
) -> None:
    """Write events to a producing service's own store, as that service would."""
    assert spec.event_store is not None
    engine = create_engine(target_for(spec, platform))
    try:
        store = EventStore(engine, spec.event_store, source=f"/{spec.name}", outbox_topic=None)
        await store.append(stream, events, tenant="acme", expected_version=None)
    finally:
        await engine.dispose()


async def test_events_in_the_producers_logs_end_as_one_email_each(
    tmp_path: Path, smtp: SmtpServer, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    smtp.start()
    for name, value in {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "WORKER_POLL_INTERVAL_S": "0.05",
    }.items():
        monkeypatch.setenv(f"NAERVAER_NOTIFICATION_{name}", value)
    platform = PlatformSettings(data_dir=tmp_path, consumer_poll_interval_s=0.05)
    specs = discover_services()
    for spec in (SERVICE, specs["case"], specs["deadline"]):
        await upgrade(spec, target_for(spec, platform))
    runtime = ServiceRuntime(SERVICE, platform, specs, clock=clock)
    assert [s.name for s in runtime.wiring.subscriptions] == [
        "notification-service.cases",
        "notification-service.deadline-reminders",
    ]
    opened, meeting = case_1_with_a_meeting()
    await append(
        platform, specs["case"], "case-1",
        NewEvent("case.opened", opened), NewEvent("case.dialogue_meeting_scheduled", meeting),
    )  # fmt: skip
    event_type, reminder = deadline_payload("due", "dialogue_meeting_1")
    await append(platform, specs["deadline"], "case-1", NewEvent(event_type, reminder))

    token = mint_token(tmp_path, tenant="acme", roles=["hr"], sub="hr-1")
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=runtime.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://n.test") as client:
        # Addresses first: the consumers start with the app and act on the logs at once.
        for party, address in (("emp-1", "ola@example.com"), ("mgr-1", "leder@example.com")):
            stored = await client.put(
                f"/v1/recipients/{party}", json={"email": address}, headers=headers
            )
            assert stored.status_code == 200

        async def all_sent() -> list[object] | None:
            response = await client.get("/v1/cases/case-1/deliveries", headers=headers)
            found = response.json().get("deliveries", [])
            return found if len(found) == 3 and {d["status"] for d in found} == {"sent"} else None

        async with runtime.app.router.lifespan_context(runtime.app):
            found = await eventually(all_sent, timeout_s=20, what="three deliveries sent")
    assert sorted((d["recipient_id"], d["template"]) for d in found) == [  # type: ignore[index]
        ("emp-1", "meeting_invitation"),
        ("mgr-1", "meeting_invitation"),
        ("mgr-1", "obligation_due"),
    ]
    assert len(smtp.messages) == 3
