"""The deadline service as the platform lists it (entry point ``naervaer.services``).

Only what every process needs to know of it — names, tables, settings, topics. Its application
is wired by ``deadline_service.wiring``, imported only in a process that runs the service.
"""

from __future__ import annotations

from deadline_service.adapters.tables import consumers, event_store, metadata
from deadline_service.config import DeadlineServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceSpec, wired_by
from naervaer.topics import ACCESS_EVENTS

SERVICE = ServiceSpec(
    name="deadline-service",
    key="deadline",
    title="Nærvær deadline service",
    description="The legal obligation timeline of every case (frister), projected from its "
    "events, with reminders as deadline events before, on and after each due date.",
    default_port=8002,
    settings_cls=DeadlineServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wired_by("deadline_service.wiring"),
    event_store=event_store,
    consumer_tables=consumers,
    # deadline-events first: the outbox's topic; access records go to access-events
    publishes=("deadline-events", ACCESS_EVENTS),
    consumes=("case-events",),
)
