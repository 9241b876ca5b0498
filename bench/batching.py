"""How many events each stage of a pipeline takes at once, from the services' own counters.

A stage works in rounds: the outbox relay publishes what is pending, a consumer settles what
it fetched in one transaction. A round costs its round trips (statements, Kafka requests)
however few events it carries, so at a trickle every event pays a whole round, and under load
the rounds grow and the cost an event falls (issue 8, W4's thirty-third round). The services
count their rounds on ``/metrics``: ``naervaer_outbox_batches_total`` beside
``naervaer_outbox_published_total``, ``naervaer_consumer_batches_total`` beside
``naervaer_messages_handled_total``. Read before and after a run, they give each stage's
events a round over the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.services import ServiceProcess

# A stage's rounds and its events (messages), by sample name: the label that names the stage,
# and what goes before its value (a relay is named by its service).
_ROUNDS = {
    "naervaer_outbox_batches_total": ("service", "relay "),
    "naervaer_consumer_batches_total": ("consumer", ""),
}
_ITEMS = {
    "naervaer_outbox_published_total": ("service", "relay "),
    "naervaer_messages_handled_total": ("consumer", ""),
}


@dataclass(frozen=True)
class Rounds:
    """Each stage's rounds and the events (messages) they carried so far."""

    rounds: Counter[str]
    items: Counter[str]

    def per_round_since(self, before: Rounds) -> dict[str, float]:
        """Events a round of each stage that worked since ``before``, by stage."""
        rounds, items = self.rounds - before.rounds, self.items - before.items
        return {stage: round(items[stage] / count, 2) for stage, count in sorted(rounds.items())}


async def read_rounds(services: Sequence[ServiceProcess]) -> Rounds:
    """The rounds counted so far by ``services``."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        pages = [await client.get(f"{service.base_url}/metrics") for service in services]
    return rounds_in(*(page.raise_for_status().text for page in pages))


def rounds_in(*expositions: str) -> Rounds:
    """The rounds counted on these /metrics pages, by stage: an outbox relay by its service's
    name (``relay <service>``), a consumer by its subscription's."""
    rounds: Counter[str] = Counter()
    items: Counter[str] = Counter()
    for exposition in expositions:
        for family in text_string_to_metric_families(exposition):
            for sample in family.samples:
                if sample.name in _ROUNDS:
                    label, prefix = _ROUNDS[sample.name]
                    rounds[prefix + sample.labels[label]] += int(sample.value)  # a count
                elif sample.name in _ITEMS:
                    label, prefix = _ITEMS[sample.name]
                    items[prefix + sample.labels[label]] += int(sample.value)
    return Rounds(rounds, items)
