"""The case service's read side, wired on its own: merge its ``Wiring`` into the service's.

The summary projection consumes the service's own topic ("case-events"); in the embedded
default the runtime resolves that topic to this service's event store. The service's spec must
therefore list "case-events" in ``consumes`` and set ``consumer_tables``.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from case_service.adapters.statistics import StatisticsReader
from case_service.adapters.summary import SummaryRows
from case_service.adapters.summary_reader import SummaryReader
from case_service.adapters.tables import read_models
from case_service.api.read_routes import (
    OSLO,
    STATE_KEY,
    ReadSide,
    cases_router,
    statistics_router,
)
from case_service.app.queries import CaseSummaries, UnitStatistics
from case_service.app.summary_projection import CaseSummaryProjection
from case_service.config import CaseServiceSettings
from naervaer.service import ServiceContext, Wiring, subscribe

CASE_EVENTS = "case-events"


def read_side(context: ServiceContext) -> Wiring:
    """Routers, the summary subscription and projection, and the routes' state."""
    projection = CaseSummaryProjection(SummaryRows(read_models), context.vault)
    routes = ReadSide(
        summaries=CaseSummaries(SummaryReader(context.engine, read_models)),
        statistics=UnitStatistics(StatisticsReader(context.engine, read_models)),
        clock=context.clock,
        timezone=_timezone(context),
    )
    return Wiring(
        routers=[cases_router, statistics_router],
        subscriptions=[subscribe(projection, context.topic(CASE_EVENTS))],
        projections=[projection],
        state={STATE_KEY: routes},
    )


def _timezone(context: ServiceContext) -> ZoneInfo:
    settings = context.settings
    if isinstance(settings, CaseServiceSettings):
        return ZoneInfo(settings.timezone)
    return OSLO
