"""Helpers of the privacy API tests: a case service on PostgreSQL, cases opened and closed
for one employee of a tenant of their own, and waiting (with a deadline) for the summaries."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import text

from .hosting import CaseApi

FIRST_DAY, CLOSED_ON = "2026-01-05", "2026-02-20"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def call(
    api: CaseApi,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    org: str,
    role: str = "hr",
    sub: str = "hr-1",
) -> httpx.Response:
    headers = api.auth(role, sub, org)
    return await api.client.request(method, path, json=body, headers=headers)


async def case_of(
    api: CaseApi, org: str, employee: str, *, closed_on: str | None = CLOSED_ON
) -> str:
    """A case of ``employee`` in ``org``, closed on ``closed_on`` (None: left open), projected."""
    body = {
        "employee_id": employee,
        "manager_id": unique("mgr"),
        "org_unit": "warehouse",
        "first_absence_day": FIRST_DAY,
    }
    opened = await call(api, "POST", "/v1/cases", body, org=org)
    assert opened.status_code == 201, opened.text
    case_id: str = opened.json()["case_id"]
    if closed_on is not None:
        closing = {"closed_on": closed_on, "reason": "returned_to_work"}
        closed = await call(api, "POST", f"/v1/cases/{case_id}/close", closing, org=org)
        assert closed.status_code == 200, closed.text
    await summarised(api, org, case_id, "open" if closed_on is None else "closed")
    return case_id


async def set_retention(api: CaseApi, org: str, months: int) -> None:
    body = {"months_after_close": months}
    response = await call(api, "PUT", "/v1/tenant/retention-policy", body, org=org)
    assert response.status_code == 200, response.text


async def summarised(api: CaseApi, org: str, case_id: str, status: str | None) -> None:
    """Wait until the case's summary shows ``status`` (None: until it is gone, 404)."""
    deadline = time.monotonic() + 20
    while True:
        response = await call(api, "GET", f"/v1/cases/{case_id}/summary", org=org)
        if status is None and response.status_code == 404:
            return
        if response.status_code == 200 and response.json()["status"] == status:
            return
        assert time.monotonic() < deadline, f"summary of {case_id} never became {status}"
        await asyncio.sleep(0.05)


async def raw_events_holding(api: CaseApi, plaintext: str) -> int:
    """How many stored events hold ``plaintext`` anywhere: their data or their stream id."""
    statement = text(
        "SELECT count(*) FROM events WHERE CAST(data AS TEXT) LIKE :like OR stream_id LIKE :like"
    )
    async with api.runtime.engine.connect() as connection:
        found = await connection.execute(statement, {"like": f"%{plaintext}%"})
        return int(found.scalar_one())


async def raw_events_of(api: CaseApi, stream_id: str) -> int:
    statement = text("SELECT count(*) FROM events WHERE stream_id = :stream")
    async with api.runtime.engine.connect() as connection:
        return int((await connection.execute(statement, {"stream": stream_id})).scalar_one())
