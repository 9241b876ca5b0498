"""How long a consumer's fetch waits on the broker: the Kafka default unless configured.

Regression (issue 8): a 20 ms default made every idle consumer poll the broker fifty times a
second; a Tansu keeping its log in S3 answered each poll with storage reads, fell behind, and
the fault-injection suite's redelivery never arrived. A short wait is opt-in.
"""

from __future__ import annotations

import inspect

import pytest

from naervaer.messaging import KafkaSource, Subscription
from naervaer.settings import PlatformSettings

KAFKA_CLIENT_DEFAULT_MS = 500


async def _ignore(*_: object) -> None:
    return None


SUBSCRIPTION = Subscription(name="test.fetch-wait", topics=("t",), handler=_ignore)


def test_the_default_is_the_kafka_clients() -> None:
    assert PlatformSettings().kafka_fetch_max_wait_ms == KAFKA_CLIENT_DEFAULT_MS
    default = inspect.signature(KafkaSource).parameters["fetch_max_wait_ms"].default
    assert default == KAFKA_CLIENT_DEFAULT_MS


def test_a_short_wait_is_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAERVAER_KAFKA_FETCH_MAX_WAIT_MS", "20")
    settings = PlatformSettings(kafka_bootstrap="127.0.0.1:9092")
    source = KafkaSource.from_settings(settings, SUBSCRIPTION)
    assert source._fetch_max_wait_ms == 20
