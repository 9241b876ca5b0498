"""``NAERVAER_OUTBOX_ROW_PER_APPEND`` reaches the store of every service that publishes, and is
off unless set (a relay of an older build reads a range's first event only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

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
