"""The deadline service's application, wired when it starts (its spec: ``bootstrap``)."""

from __future__ import annotations

from deadline_service.adapters.folded import FoldedCases
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import TimelineProjection
from deadline_service.adapters.scheduler import DeadlineScheduler
from deadline_service.api.dev_clock import dev_router
from deadline_service.api.personal_data import personal_data_router
from deadline_service.api.routes import router
from deadline_service.app.personal_data import PersonalData
from deadline_service.app.queries import TimelineQueries
from deadline_service.config import DeadlineServiceSettings, Policies
from naervaer.privacy.sealer import Sealer
from naervaer.service import ServiceContext, Wiring, subscribe


def wire(context: ServiceContext) -> Wiring:
    settings = context.settings
    assert isinstance(settings, DeadlineServiceSettings)
    assert context.store is not None
    policies = Policies(settings.tenant_policies)
    timeline = TimelineProjection(
        policies,
        context.vault,
        OpenedEvents(settings.opened_events_capacity),
        FoldedCases(settings.folded_cases_capacity),
    )
    scheduler = DeadlineScheduler(
        context.engine,
        context.store,
        context.clock,
        Sealer(context.vault),
        zone=settings.zone,
        poll_interval_s=settings.scheduler_poll_interval_s,
    )
    queries = TimelineQueries(context.engine, policies, context.clock, settings.zone)
    routers = [router, personal_data_router]
    if context.platform.environment != "production":
        routers.append(dev_router)
    return Wiring(
        routers=routers,
        subscriptions=[subscribe(timeline, context.topic("case-events"))],
        projections=[timeline],
        state={
            "queries": queries,
            "personal_data": PersonalData(context.engine, queries, context.clock),
            "scheduler": scheduler,
            "clock": context.clock,
        },
        background={"deadline-scheduler": scheduler.run},
    )
