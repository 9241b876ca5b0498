"""FastAPI dependencies of the deadline API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from deadline_service.app.queries import TimelineQueries


def _queries(request: Request) -> TimelineQueries:
    queries: TimelineQueries = request.app.state.queries
    return queries


QueriesDep = Annotated[TimelineQueries, Depends(_queries)]
