"""Integration events: the public, versioned contract between services and integrators.

Consumers depend on these models, never on another service's code. Every type is registered in
``CONTRACTS``; ``naervaer schemas`` writes their JSON Schemas into the committed ``schemas/``.
"""

from naervaer.auth.access import ACCESS_EVENTS_TOPIC, register_access_events
from naervaer.contracts.case import register_case_events
from naervaer.contracts.deadline import register_deadline_events
from naervaer.contracts.document import register_document_events
from naervaer.contracts.employee import register_employee_events
from naervaer.contracts.followup import register_followup_events
from naervaer.contracts.measures import register_measure_events
from naervaer.contracts.tenant import register_tenant_events
from naervaer.privacy.keyring import KEYRING
from naervaer.registry import EventRegistry

CASE_EVENTS_TOPIC = "naervaer.case-events"

CONTRACTS = EventRegistry(keys=KEYRING.lookup)
register_case_events(CONTRACTS)
register_deadline_events(CONTRACTS)
register_followup_events(CONTRACTS)
register_measure_events(CONTRACTS)
register_employee_events(CONTRACTS)
register_tenant_events(CONTRACTS)
register_access_events(CONTRACTS)
register_document_events(CONTRACTS)

__all__ = ["ACCESS_EVENTS_TOPIC", "CASE_EVENTS_TOPIC", "CONTRACTS"]
