"""The document service as the platform lists it (entry point ``naervaer.services``).

Only what every process needs to know of it — names, tables, settings, topics. Its application
is wired by ``document_service.wiring``, imported only in a process that runs the service.
"""

from __future__ import annotations

from document_service.adapters.tables import consumers, event_store, metadata
from document_service.config import DocumentServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceSpec, wired_by

SERVICE = ServiceSpec(
    name="document-service",
    key="document",
    title="Nærvær document service",
    description="The signed, tamper-evident record of every case: documents with every version, "
    "signatures, attachments, a hash-chained and signed audit trail, and verifiable dossiers.",
    default_port=8004,
    settings_cls=DocumentServiceSettings,
    metadata=metadata,
    migrations_dir=migrations_dir(__file__),
    wire=wired_by("document_service.wiring"),
    event_store=event_store,
    consumer_tables=consumers,
    publishes=("document-events",),
    consumes=("case-events",),
)
