"""Development clock control: ``PUT``/``GET /v1/dev/clock`` (never registered in production).

Moves the same clock as ``naervaer clock set`` (every service sharing the data folder), and
wakes the deadline scheduler so timers due at the new time fire at once.
"""

from __future__ import annotations

from typing import Annotated, Protocol, runtime_checkable

from fastapi import APIRouter, Body, Request
from fastapi.openapi.models import Example

from deadline_service.adapters.scheduler import DeadlineScheduler
from deadline_service.api.schemas import ClockIn, ClockOut
from naervaer.clock import Clock
from naervaer.http.problems import PROBLEM_RESPONSES, Problem, ProblemError

dev_router = APIRouter(prefix="/v1/dev", tags=["development"])
CLOCK_EXAMPLE: dict[str, Example] = {"example": {"value": {"now": "2026-03-02T09:00:00+01:00"}}}


@runtime_checkable
class SettableClock(Protocol):
    def now(self) -> object: ...
    def set(self, moment: object) -> None: ...


def _clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


@dev_router.get("/clock", response_model=ClockOut, summary="The services' current time (dev)")
async def get_clock(request: Request) -> ClockOut:
    return ClockOut(now=_clock(request).now())


@dev_router.put(
    "/clock",
    response_model=ClockOut,
    responses={k: PROBLEM_RESPONSES[k] for k in (409, 422)},
    summary="Move the services' clock (development only; time keeps running from there)",
)
async def set_clock(
    body: Annotated[ClockIn, Body(openapi_examples=CLOCK_EXAMPLE)], request: Request
) -> ClockOut:
    clock = _clock(request)
    if not isinstance(clock, SettableClock):
        detail = "This service's clock cannot be moved."
        raise ProblemError(Problem.for_status(409, "clock-not-controllable", detail=detail))
    clock.set(body.now)
    scheduler: DeadlineScheduler = request.app.state.scheduler
    scheduler.wake()
    return ClockOut(now=clock.now())
