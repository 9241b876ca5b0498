"""Wires the notification service into the runtime (entry point ``naervaer.services``)."""

from __future__ import annotations

from naervaer.migrations import migrations_dir
from naervaer.service import ServiceContext, ServiceSpec, Wiring, subscribe
from notification_service.adapters.projections import CasePartiesProjection
from notification_service.adapters.tables import consumers, metadata
from notification_service.config import NotificationServiceSettings


def wire(context: ServiceContext) -> Wiring:
    parties = CasePartiesProjection()
    return Wiring(
        subscriptions=[subscribe(parties, context.topic("case-events"))],
        projections=[parties],
    )


SERVICE = ServiceSpec(
    name="notification-service",
    key="notification",
    title="Nærvær notification service",
    description="Reminds the right party, through the right channel, exactly once.",
    default_port=8003,
    settings_cls=NotificationServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wire,
    consumer_tables=consumers,
    consumes=("case-events",),
)
