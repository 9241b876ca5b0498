"""Prometheus metrics of the event platform, exposed on each service's ``/metrics``.

Every metric carries a ``service`` label: in the embedded default the four services share one
process and one registry.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OUTBOX_PENDING = Gauge(
    "naervaer_outbox_pending",
    "Events in the outbox not yet acknowledged by the broker.",
    ["service"],
)
OUTBOX_OLDEST_AGE = Gauge(
    "naervaer_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row (0 when the outbox is empty).",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "naervaer_outbox_published_total",
    "Events of outbox rows published and acknowledged.",
    ["service"],
)
OUTBOX_BATCHES = Counter(
    "naervaer_outbox_batches_total",
    "Batches of events the outbox relay published and had acknowledged: published events "
    "over batches is how many it sends at once (more under load, one at a trickle).",
    ["service"],
)
OUTBOX_PUBLISH_FAILURES = Counter(
    "naervaer_outbox_publish_failures_total", "Failed attempts to publish a batch.", ["service"]
)
CONSUMER_LAG = Gauge(
    "naervaer_consumer_lag",
    "Messages (Kafka) or log positions (embedded) behind the head, per consumer and partition.",
    ["service", "consumer", "topic", "partition"],
)
MESSAGES_HANDLED = Counter(
    "naervaer_messages_handled_total",
    "Messages handled, by outcome (handled, duplicate, dead_lettered, skipped).",
    ["service", "consumer", "outcome"],
)
CONSUMER_BATCHES = Counter(
    "naervaer_consumer_batches_total",
    "Settlements of fetched messages: a batch settled in one transaction counts once, and so "
    "does a message settled alone (its retries and dead-lettering included). Messages handled "
    "over batches is how many a consumer settles at once: a settlement's round trips to the "
    "database are paid however few messages it holds.",
    ["service", "consumer"],
)
HANDLER_FAILURES = Counter(
    "naervaer_handler_failures_total",
    "Failed handler attempts (each retry counts).",
    ["service", "consumer", "event_type"],
)
APPEND_SECONDS = Histogram(
    "naervaer_eventstore_append_seconds", "Time to append one batch of events.", ["service"]
)
HTTP_REQUESTS = Counter(
    "naervaer_http_requests_total",
    "HTTP requests answered, by route template (not the raw path) and status.",
    ["service", "method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "naervaer_http_request_duration_seconds",
    "Time from request to the end of the response, by route template.",
    ["service", "method", "route"],
)
