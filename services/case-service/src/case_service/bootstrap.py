"""The case service as the platform lists it (entry point ``naervaer.services``).

Only what every process needs to know of it — names, tables, settings, topics. Its application
is wired by ``case_service.wiring``, imported only in a process that runs the service.
"""

from __future__ import annotations

from case_service.adapters.tables import consumers, event_store, metadata
from case_service.config import CaseServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceSpec, wired_by
from naervaer.topics import ACCESS_EVENTS

SERVICE = ServiceSpec(
    name="case-service",
    key="case",
    title="Nærvær case service",
    description="The sick-leave case (sykefraværstilfelle) as an event-sourced aggregate: every "
    "fact about a case enters here, is checked against the rules and becomes an event.",
    default_port=8001,
    settings_cls=CaseServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wired_by("case_service.wiring"),
    event_store=event_store,
    consumer_tables=consumers,
    # case-events first: the outbox's topic; access records go to access-events by stream type
    publishes=("case-events", ACCESS_EVENTS),
    # The case service reads its own topic into its read side (the case summaries).
    consumes=("case-events",),
)
