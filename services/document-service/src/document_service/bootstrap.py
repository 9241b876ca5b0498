"""Wires the document service into the runtime (entry point ``naervaer.services: document``)."""

from __future__ import annotations

from document_service.adapters.projections import AuditTrailProjection
from document_service.adapters.tables import consumers, metadata
from document_service.config import DocumentServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceContext, ServiceSpec, Wiring, subscribe


def wire(context: ServiceContext) -> Wiring:
    audit = AuditTrailProjection()
    return Wiring(
        subscriptions=[subscribe(audit, context.topic("case-events"))],
        projections=[audit],
    )


SERVICE = ServiceSpec(
    name="document-service",
    key="document",
    title="Nærvær document service",
    description="The signed, tamper-evident record of every case.",
    default_port=8004,
    settings_cls=DocumentServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wire,
    consumer_tables=consumers,
    consumes=("case-events",),
)
