"""``NAERVAER_OUTBOX_ROW_PER_APPEND`` reaches the store of every service that publishes, and is
off unless set (a relay of an older build reads a range's first event only);
``NAERVAER_OUTBOX_LINGER_MS`` reaches its relay, and is 5 ms unless set (0: none)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

from naervaer.outbox import OutgoingMessage
from naervaer.runtime import ServiceRuntime
from naervaer.service import discover_services
from naervaer.settings import PlatformSettings

pytestmark = pytest.mark.integration
SPECS = discover_services()


@pytest.mark.parametrize("setting", [None, "false", "true"])
async def test_the_setting_reaches_each_publishing_store(
    setting: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting is not None:
        monkeypatch.setenv("NAERVAER_OUTBOX_ROW_PER_APPEND", setting)
    platform = PlatformSettings(data_dir=tmp_path, kafka_bootstrap="kafka:19092")
    publishing = [spec for spec in SPECS.values() if spec.event_store and spec.publishes]
    assert {spec.key for spec in publishing} >= {"case", "deadline", "document"}
    for spec in publishing:
        runtime = ServiceRuntime(spec, platform, SPECS, tracer_provider=TracerProvider())
        try:
            assert runtime.store is not None
            draft = runtime.store._outbox_draft("case")
            assert draft is not None
            assert draft.row_per_append is (setting == "true"), spec.key
        finally:
            await runtime.engine.dispose()


@pytest.mark.parametrize(("setting", "linger_s"), [(None, 0.005), ("0", 0.0), ("25", 0.025)])
async def test_the_linger_reaches_each_relay(
    setting: str | None, linger_s: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if setting is not None:
        monkeypatch.setenv("NAERVAER_OUTBOX_LINGER_MS", setting)
    platform = PlatformSettings(data_dir=tmp_path, kafka_bootstrap="kafka:19092")
    relaying: set[str] = set()
    for spec in SPECS.values():
        runtime = ServiceRuntime(spec, platform, SPECS, tracer_provider=TracerProvider())
        try:
            relay = runtime.outbox_relay(_NoPublisher())
            if relay is not None:
                relaying.add(spec.key)
                assert relay._linger_s == linger_s, spec.key
        finally:
            await runtime.engine.dispose()
    assert relaying == {"case", "deadline", "document"}  # those that publish events of their own


class _NoPublisher:
    async def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        raise AssertionError("nothing is relayed here")
