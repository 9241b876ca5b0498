"""The notification service as the platform lists it (entry point ``naervaer.services``).

Only what every process needs to know of it — names, tables, settings, topics. Its application
is wired by ``notification_service.wiring``, imported only in a process that runs the service.
"""

from __future__ import annotations

from naervaer.migrations import migrations_dir
from naervaer.service import ServiceSpec, wired_by
from notification_service.adapters.tables import consumers, metadata
from notification_service.config import NotificationServiceSettings

SERVICE = ServiceSpec(
    name="notification-service",
    key="notification",
    title="Nærvær notification service",
    description="Reminds the right party, through the right channel, exactly once.",
    default_port=8003,
    settings_cls=NotificationServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wired_by("notification_service.wiring"),
    consumer_tables=consumers,
    consumes=("case-events",),
)
