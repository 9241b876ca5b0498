"""Integration events: the public, versioned contract between services and integrators.

Consumers depend on these models, never on another service's code. Every type is registered in
``CONTRACTS``; ``naervaer schemas`` writes their JSON Schemas into the committed ``schemas/``.
"""

from naervaer.contracts.case import register_case_events
from naervaer.registry import EventRegistry

CASE_EVENTS_TOPIC = "naervaer.case-events"

CONTRACTS = EventRegistry()
register_case_events(CONTRACTS)

__all__ = ["CASE_EVENTS_TOPIC", "CONTRACTS"]
