"""The case service's application, wired when it starts (its spec: ``bootstrap``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from case_service.adapters.employee_cases import EmployeeCases
from case_service.adapters.records import (
    EmployeeRepository,
    PolicyRepository,
    RetentionRepository,
)
from case_service.adapters.repository import CaseRepository
from case_service.adapters.streams import UnitOfWork
from case_service.adapters.tables import read_models
from case_service.api import (
    follow_up_routes,
    measure_routes,
    privacy_routes,
    problems,
    record_routes,
    routes,
    sick_leave_routes,
)
from case_service.app.erasure import Eraser
from case_service.app.erasure_sweep import ErasureSweeper
from case_service.app.export import Exporter
from case_service.app.handlers import Handlers
from case_service.app.privacy import Privacy
from case_service.config import CaseServiceSettings
from case_service.read_side import read_side
from naervaer.privacy.sealer import Sealer
from naervaer.service import ServiceContext, Wiring

WRITE_ROUTERS = (
    routes.router,
    sick_leave_routes.router,
    follow_up_routes.router,
    measure_routes.router,
    record_routes.employees,
    record_routes.tenants,
)


def wire(context: ServiceContext) -> Wiring:
    store = context.store
    assert store is not None
    settings = context.settings
    assert isinstance(settings, CaseServiceSettings)
    sealer = Sealer(context.vault)
    timezone = ZoneInfo(settings.timezone)
    handlers = Handlers(
        cases=CaseRepository(store, sealer),
        employees=EmployeeRepository(store, sealer),
        policies=PolicyRepository(store, context.vault),
        uow=UnitOfWork(context.engine),
        clock=context.clock,
        timezone=timezone,
    )
    eraser = Eraser(
        employees=handlers.employees,
        retention=RetentionRepository(store, context.vault),
        cases=EmployeeCases(context.engine, read_models),
        vault=context.vault,
        clock=context.clock,
        timezone=timezone,
    )
    privacy = Privacy(eraser)
    sweeper = ErasureSweeper(eraser, interval_s=settings.erasure_sweep_interval_s)
    read = read_side(context)
    return Wiring(
        routers=[*WRITE_ROUTERS, privacy_routes.router, *read.routers],
        subscriptions=list(read.subscriptions),
        projections=list(read.projections),
        state={
            "handlers": handlers,
            privacy_routes.PRIVACY_KEY: privacy,
            privacy_routes.EXPORTER_KEY: Exporter(privacy, store),
            "erasure_sweeper": sweeper,
            **read.state,
        },
        install=[problems.install],
        background={"erasure-sweep": sweeper.run} if sweeper.enabled else {},
    )
