"""Wires the case service into the shared runtime (entry point ``naervaer.services: case``)."""

from __future__ import annotations

from case_service.adapters.repository import CaseRepository
from case_service.adapters.tables import event_store, metadata
from case_service.api import problems
from case_service.api.routes import router
from case_service.app.handlers import Handlers
from case_service.config import CaseServiceSettings
from naervaer.migrations import migrations_dir
from naervaer.service import ServiceContext, ServiceSpec, Wiring


def wire(context: ServiceContext) -> Wiring:
    assert context.store is not None
    handlers = Handlers(cases=CaseRepository(context.store))
    return Wiring(routers=[router], state={"handlers": handlers}, install=[problems.install])


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
    wire=wire,
    event_store=event_store,
    publishes=("case-events",),
)
