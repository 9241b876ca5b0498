"""Kafka topics: created when missing (deployments also run a topic-creation job)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = structlog.get_logger("naervaer.topics")


async def ensure_topics(
    bootstrap: str, names: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create each topic that does not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="naervaer-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(names) - existing)
        if not missing:
            return
        # another replica may have created it first
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics(
                [NewTopic(name, partitions, replication_factor) for name in missing]
            )
        log.info("topics created", topics=missing, partitions=partitions)
    finally:
        await admin.close()
