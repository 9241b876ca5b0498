"""Routes of the read side: case summaries (saksoversikt) and absence statistics.

Access records (innsynslogg): a listing writes one record *per listed case*, on the role that
let the caller see it, because the record exists so an employee can learn who saw their case,
and a listing shows each case's summary as much as opening it does. An empty page writes none.
The statistics write one record per request (resource ``absence_statistics``, the unit's id).

The unit's headcount is a query parameter, not a stored table: the tenant's HR system knows who
was employed in the period asked about, and a copy kept here would go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import structlog
from fastapi import APIRouter, Depends, Query, Request, Response

from case_service.adapters.summary_reader import Cursor, InvalidCursor, SummaryFilters
from case_service.api.read_schemas import (
    AbsenceStatisticsResponse,
    CaseSummaryPage,
    CaseSummaryResponse,
)
from case_service.app.queries import (
    CaseSummaries,
    CaseSummary,
    UnitStatistics,
    statistics_decision,
)
from case_service.app.statistics_absence import Period, Thresholds
from naervaer.auth.fastapi import CurrentPrincipal, authorize
from naervaer.auth.policy import can_read_case
from naervaer.auth.principal import Principal
from naervaer.clock import Clock
from naervaer.http.problems import PROBLEM_RESPONSES, InvalidParam, Problem, ProblemError

log = structlog.get_logger(__name__)

STATE_KEY = "case_read_side"
OSLO = ZoneInfo("Europe/Oslo")
MAX_PERIOD_DAYS = 5 * 366
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2999, 12, 31)
"""Statistics periods lie in these years: the flags look years back from a period's end, and
from year 1 that fell off the calendar (a 500, found by schemathesis in tests/hostile)."""
SUMMARY_RESOURCE = "case_summary"
STATISTICS_RESOURCE = "absence_statistics"


@dataclass(frozen=True)
class ReadSide:
    """What the read routes need, put on ``app.state`` under ``STATE_KEY``."""

    summaries: CaseSummaries
    statistics: UnitStatistics
    clock: Clock
    timezone: ZoneInfo = OSLO

    def today(self) -> date:
        """Today in the employers' calendar: what the date-dependent parts refer to."""
        return self.clock.now().astimezone(self.timezone).date()


async def _read_side(request: Request) -> ReadSide:
    read_side: ReadSide = getattr(request.app.state, STATE_KEY)
    return read_side


ReadSideDep = Annotated[ReadSide, Depends(_read_side)]
OptionalId = Annotated[str | None, Query(min_length=1, max_length=128)]

cases_router = APIRouter(prefix="/v1/cases", tags=["case summaries"])
statistics_router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@cases_router.get(
    "",
    response_model=CaseSummaryPage,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 422)},
    summary="The summaries of the cases the caller may see, newest case start first",
)
async def list_cases(
    principal: CurrentPrincipal,
    request: Request,
    read: ReadSideDep,
    manager_id: OptionalId = None,
    org_unit: OptionalId = None,
    status: Literal["open", "closed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> CaseSummaryPage:
    after = _decode(cursor)
    filters = SummaryFilters(manager_id=manager_id, org_unit=org_unit, status=status)
    page, following = await read.summaries.visible_to(principal, filters, limit=limit, after=after)
    today = read.today()
    items = [
        CaseSummaryResponse.of(summary, today)
        for summary in page
        if await _record_listed(request, principal, summary)
    ]
    return CaseSummaryPage(items=items, next_cursor=following.encode() if following else None)


@cases_router.get(
    "/{case_id}/summary",
    response_model=CaseSummaryResponse,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 403, 404)},
    summary="One case at a glance (may lag the case's latest event by a moment)",
)
async def get_case_summary(
    case_id: str,
    principal: CurrentPrincipal,
    request: Request,
    read: ReadSideDep,
    response: Response,
) -> CaseSummaryResponse:
    summary = await read.summaries.get(case_id)
    if summary is None:
        raise ProblemError(Problem.for_status(404, detail="No such resource."))
    await authorize(
        request,
        principal,
        can_read_case(principal, summary.ref()),
        operation="read",
        resource=SUMMARY_RESOURCE,
        resource_id=case_id,
        case_id=case_id,
    )
    response.headers["ETag"] = f'"{summary.version}"'
    return CaseSummaryResponse.of(summary, read.today())


@statistics_router.get(
    "/absence",
    response_model=AbsenceStatisticsResponse,
    responses={k: PROBLEM_RESPONSES[k] for k in (401, 403, 422)},
    summary="Absence statistics of one org unit over a period (HR and auditors)",
)
async def get_absence_statistics(
    principal: CurrentPrincipal,
    request: Request,
    read: ReadSideDep,
    org_unit: Annotated[str, Query(min_length=1, max_length=128)],
    period_start: Annotated[date, Query(alias="from", description="First day, included.")],
    period_end: Annotated[date, Query(alias="to", description="Last day, included.")],
    headcount: Annotated[
        int | None, Query(ge=1, description="Employees of the unit in the period.")
    ] = None,
    pattern_min_spells: Annotated[int, Query(ge=1, le=100)] = 3,
    pattern_window_months: Annotated[int, Query(ge=1, le=36)] = 6,
) -> AbsenceStatisticsResponse:
    await authorize(
        request,
        principal,
        statistics_decision(principal),
        operation="read",
        resource=STATISTICS_RESOURCE,
        resource_id=org_unit,
    )
    period = _period(period_start, period_end)
    thresholds = Thresholds(
        pattern_min_spells=pattern_min_spells, pattern_window_months=pattern_window_months
    )
    stats = await read.statistics.absence(
        principal.tenant, org_unit, period, headcount=headcount, thresholds=thresholds
    )
    return AbsenceStatisticsResponse.of(org_unit, stats, thresholds)


async def _record_listed(request: Request, principal: Principal, summary: CaseSummary) -> bool:
    """Write the access record of one listed case; False drops a case the policy refuses."""
    decision = can_read_case(principal, summary.ref())
    if not decision.allowed:
        # The SQL visibility and the policy disagree: a bug. Fail closed, say so loudly.
        log.error("listing returned a case the policy refuses", case_id=summary.case_id)
        return False
    await authorize(
        request,
        principal,
        decision,
        operation="read",
        resource=SUMMARY_RESOURCE,
        resource_id=summary.case_id,
        case_id=summary.case_id,
    )
    return True


def _decode(cursor: str | None) -> Cursor | None:
    if cursor is None:
        return None
    try:
        return Cursor.decode(cursor)
    except InvalidCursor as error:
        raise _invalid("query.cursor", str(error)) from None


def _period(start: date, end: date) -> Period:
    if start < EARLIEST_DAY:
        raise _invalid("query.from", f"`from` must be on or after {EARLIEST_DAY}")
    if end > LATEST_DAY:
        raise _invalid("query.to", f"`to` must be on or before {LATEST_DAY}")
    if end < start:
        raise _invalid("query.to", "`to` must be on or after `from`")
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise _invalid("query.to", f"a period spans at most {MAX_PERIOD_DAYS} days")
    return Period(start, end)


def _invalid(location: str, message: str) -> ProblemError:
    problem = Problem.for_status(
        422,
        "validation-error",
        title="Invalid request",
        detail=message,
        errors=[InvalidParam(location=location, message=message, type="value_error")],
    )
    return ProblemError(problem)
