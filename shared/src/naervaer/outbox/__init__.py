"""Transactional outbox relay (utboks): committed events to Kafka, in order, at least once."""

from naervaer.outbox.kafka import KafkaPublisher
from naervaer.outbox.messages import OutgoingMessage, Publisher, PublishFailed
from naervaer.outbox.relay import OutboxRelay
from naervaer.outbox.rows import OutboxLag

__all__ = [
    "KafkaPublisher",
    "OutboxLag",
    "OutboxRelay",
    "OutgoingMessage",
    "PublishFailed",
    "Publisher",
]
