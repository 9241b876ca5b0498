"""Consumers: idempotent handling (inbox), Kafka and embedded transports, dead letters, rebuilds.

A ``Consumer`` runs one ``Subscription`` against a ``MessageSource``: ``KafkaSource`` in a
deployment, ``EmbeddedLogSource`` (the producing service's event log, read by position) in the
embedded default. Either way the same code handles each message in one transaction together
with its inbox row (mottakslogg), so redelivery never applies an event twice.
"""

from naervaer.messaging.consumer import Consumer
from naervaer.messaging.dead_letters import (
    DeadLetterSink,
    KafkaDeadLetterSink,
    LocalDeadLetterSink,
)
from naervaer.messaging.embedded_source import EmbeddedLogSource, EventLog
from naervaer.messaging.kafka_source import KafkaSource
from naervaer.messaging.rebuild import Projection, rebuild
from naervaer.messaging.source import IncomingMessage, MessageSource
from naervaer.messaging.subscription import Handler, Outcome, SimulatedCrash, Subscription
from naervaer.messaging.tables import ConsumerTables, consumer_tables

__all__ = [
    "Consumer",
    "ConsumerTables",
    "DeadLetterSink",
    "EmbeddedLogSource",
    "EventLog",
    "Handler",
    "IncomingMessage",
    "KafkaDeadLetterSink",
    "KafkaSource",
    "LocalDeadLetterSink",
    "MessageSource",
    "Outcome",
    "Projection",
    "SimulatedCrash",
    "Subscription",
    "consumer_tables",
    "rebuild",
]
