"""How long a consumer's fetch waits on the broker, and for how much data: the Kafka
client's defaults unless configured.

Regression (issue 8): a 20 ms default made every idle consumer poll the broker fifty times a
second; a Tansu keeping its log in S3 answered each poll with storage reads, fell behind, and
the fault-injection suite's redelivery never arrived. A short wait is opt-in.
"""

from __future__ import annotations

import inspect

import pytest
from aiokafka import AIOKafkaConsumer  # type: ignore[import-untyped]

from naervaer.messaging import KafkaSource, Subscription, kafka_source
from naervaer.settings import PlatformSettings

KAFKA_CLIENT_DEFAULT_MS = 500
KAFKA_CLIENT_DEFAULT_MIN_BYTES = 1


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


def test_the_data_a_fetch_waits_for_is_the_kafka_clients_by_default() -> None:
    assert PlatformSettings().kafka_fetch_min_bytes == KAFKA_CLIENT_DEFAULT_MIN_BYTES
    default = inspect.signature(KafkaSource).parameters["fetch_min_bytes"].default
    assert default == KAFKA_CLIENT_DEFAULT_MIN_BYTES


async def test_the_configured_fetch_reaches_the_kafka_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[dict[str, object]] = []

    class RecordingConsumer:
        def __init__(self, *topics: str, **config: object) -> None:
            inspect.signature(AIOKafkaConsumer).bind(*topics, **config)  # the client's keywords
            made.append(config)

        async def start(self) -> None:
            return None

    monkeypatch.setattr(kafka_source, "AIOKafkaConsumer", RecordingConsumer)
    monkeypatch.setenv("NAERVAER_KAFKA_FETCH_MAX_WAIT_MS", "20")
    monkeypatch.setenv("NAERVAER_KAFKA_FETCH_MIN_BYTES", "16384")
    settings = PlatformSettings(kafka_bootstrap="127.0.0.1:9092")

    await KafkaSource.from_settings(settings, SUBSCRIPTION).start()

    [config] = made
    assert (config["fetch_max_wait_ms"], config["fetch_min_bytes"]) == (20, 16_384)
