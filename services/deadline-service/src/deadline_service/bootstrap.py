"""Wires the deadline service into the runtime (entry point ``naervaer.services``)."""

from __future__ import annotations

from deadline_service.adapters.projections import CaseStartProjection
from deadline_service.adapters.tables import consumers, metadata
from deadline_service.config import DeadlineServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceContext, ServiceSpec, Wiring, subscribe


def wire(context: ServiceContext) -> Wiring:
    case_starts = CaseStartProjection()
    return Wiring(
        subscriptions=[subscribe(case_starts, context.topic("case-events"))],
        projections=[case_starts],
    )


SERVICE = ServiceSpec(
    name="deadline-service",
    key="deadline",
    title="Nærvær deadline service",
    description="The legal obligation timeline of every case, projected from its events.",
    default_port=8002,
    settings_cls=DeadlineServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wire,
    consumer_tables=consumers,
    consumes=("case-events",),
)
