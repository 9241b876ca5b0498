"""bench.batching: each stage's events a round, from the services' /metrics counters."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.batching import rounds_in


def _exposition(relay: tuple[int, int], timeline: tuple[int, int, int]) -> str:
    """A /metrics page as prometheus_client writes it: the relay's (events, batches) and the
    consumer's (handled, duplicates, batches)."""
    published, batches = relay
    handled, duplicates, settled = timeline
    consumer = 'service="deadline-service",consumer="deadline-service.timeline"'
    return f"""\
# HELP naervaer_outbox_published_total Events of outbox rows published and acknowledged.
# TYPE naervaer_outbox_published_total counter
naervaer_outbox_published_total{{service="case-service"}} {published}.0
naervaer_outbox_published_created{{service="case-service"}} 1.7e+09
# HELP naervaer_outbox_batches_total Batches of events the outbox relay published.
# TYPE naervaer_outbox_batches_total counter
naervaer_outbox_batches_total{{service="case-service"}} {batches}.0
# HELP naervaer_messages_handled_total Messages handled, by outcome.
# TYPE naervaer_messages_handled_total counter
naervaer_messages_handled_total{{{consumer},outcome="handled"}} {handled}.0
naervaer_messages_handled_total{{{consumer},outcome="duplicate"}} {duplicates}.0
# HELP naervaer_consumer_batches_total Settlements of fetched messages.
# TYPE naervaer_consumer_batches_total counter
naervaer_consumer_batches_total{{{consumer}}} {settled}.0
# HELP naervaer_http_requests_total HTTP requests answered.
# TYPE naervaer_http_requests_total counter
naervaer_http_requests_total{{service="case-service",method="GET",route="/x",status="200"}} 9.0
"""


def test_events_a_round_are_counted_between_two_readings() -> None:
    before = rounds_in(_exposition(relay=(10, 10), timeline=(7, 3, 10)))
    after = rounds_in(_exposition(relay=(110, 30), timeline=(100, 10, 30)))

    assert after.per_round_since(before) == {
        "deadline-service.timeline": 5.0,  # 93 handled and 7 duplicates in 20 transactions
        "relay case-service": 5.0,  # 100 events in 20 batches
    }
    assert after.items["relay case-service"] - before.items["relay case-service"] == 100
    assert after.items["deadline-service.timeline"] == 110  # every message, duplicates too


def test_a_stage_without_a_round_since_is_left_out() -> None:
    reading = rounds_in(_exposition(relay=(10, 10), timeline=(7, 3, 10)))
    busy_relay = rounds_in(_exposition(relay=(13, 11), timeline=(7, 3, 10)))

    assert busy_relay.per_round_since(reading) == {"relay case-service": 3.0}


def test_the_pages_of_several_processes_add_up() -> None:
    one = _exposition(relay=(10, 5), timeline=(4, 0, 2))
    other = _exposition(relay=(20, 5), timeline=(8, 0, 2))

    assert rounds_in(one, other).per_round_since(rounds_in()) == {
        "deadline-service.timeline": 3.0,
        "relay case-service": 3.0,
    }
