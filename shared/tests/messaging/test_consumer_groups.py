"""Kafka consumer groups and topics as the platform settings name and size them."""

from __future__ import annotations

import pytest

from naervaer.messaging import KafkaSource, Subscription
from naervaer.settings import PlatformSettings


async def _ignore(*_: object) -> None:
    return None


def test_a_deployments_consumer_groups_carry_its_topic_prefix() -> None:
    """Two deployments sharing a cluster (``staging.``, ``prod.``) never share a group: a
    rebalance would otherwise hand one's partitions to the other's consumers."""
    subscription = Subscription("deadline-service.timeline", ("x.case-events",), _ignore)
    groups = {
        KafkaSource.from_settings(
            PlatformSettings(kafka_bootstrap="kafka:9092", topic_prefix=prefix), subscription
        ).group_id
        for prefix in ("staging.", "prod.")
    }
    assert groups == {"staging.deadline-service.timeline", "prod.deadline-service.timeline"}


def test_a_source_built_by_hand_keeps_the_subscriptions_name_as_its_group() -> None:
    subscription = Subscription("audit-reader", ("x.access-events",), _ignore)
    assert KafkaSource("kafka:9092", subscription).group_id == "audit-reader"


def test_the_replication_of_topics_the_services_create_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As README's settings table and deploy/base/config.yaml name it."""
    assert PlatformSettings().kafka_replication_factor == 1  # a one-broker development cluster
    monkeypatch.setenv("NAERVAER_KAFKA_REPLICATION_FACTOR", "3")
    assert PlatformSettings().kafka_replication_factor == 3
