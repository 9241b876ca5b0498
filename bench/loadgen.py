"""W3's load generator: runs in its own process, so it does not share a core's GIL with the
harness; closed loop over aiohttp, registering sick notes on many cases, each request in flight
on a client (and keep-alive connection) of its own.

aiohttp, not httpx: the generator shares the box's two cores with what it measures, and an
httpx request cost about four times the client CPU of an aiohttp one (~1.6 against ~0.4 ms
in a probe on this machine; BENCHMARKS.md, tenth round): CPU the service then lacked.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp
import asyncpg  # type: ignore[import-untyped]

from bench import cpu
from bench.driver import Timed, closed_loop
from bench.machine import plain_url


@dataclass(frozen=True)
class LoadPlan:
    base_urls: tuple[str, ...]  # the service's replicas: client i talks to replica i mod n
    token: str
    clients: int  # requests in flight
    cases: int  # cases opened first; each command goes to the next idle one
    warmup_s: float
    duration_s: float
    service_pids: tuple[int, ...] = ()  # their CPU per command is measured too (summed)
    broker_pid: int | None = None  # and the broker's, where the harness runs it
    database_url: str | None = None  # the services' database: its commits per command


@dataclass
class CaseCursor:
    """What a client knows of a case: its id, its ETag version, how many notes it has."""

    case_id: str
    version: int
    notes: int = 0


def run_plan(plan: LoadPlan) -> dict[str, Any]:
    """Entry point in the worker process; a failure comes back as text (the HTTP client's
    errors need not survive pickling)."""
    try:
        return asyncio.run(_run(plan))
    except Exception as error:
        return {"error": f"{type(error).__name__}: {error}"}


async def _run(plan: LoadPlan) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        # One client (one keep-alive connection) per request in flight, as that many users
        # would have: with one shared pool of exactly that many connections, httpcore handed
        # an idle connection to several queued requests at once; the losers queued again and
        # some waited up to a second before their request was even written (W3's p99 tail).
        clients = [
            await stack.enter_async_context(_client(plan, plan.base_urls[i % len(plan.base_urls)]))
            for i in range(plan.clients)
        ]
        idle_clients = collections.deque(clients)
        began = time.perf_counter()
        idle = collections.deque(await _open_cases(clients, plan))
        opened_s = time.perf_counter() - began
        statuses: collections.Counter[int] = collections.Counter()

        async def register_note() -> None:
            # Never two requests on one case (no 412 between clients), nor on one client.
            cursor, client = idle.popleft(), idle_clients.popleft()
            try:
                statuses[await _sick_note(client, cursor)] += 1
            finally:
                idle.append(cursor)
                idle_clients.append(client)

        # CPU over the whole loop (warm-up too), divided by every command it completed.
        pids = {"loadgen": os.getpid()}
        pids |= {f"service{i}": pid for i, pid in enumerate(plan.service_pids, 1)}
        if plan.broker_pid is not None:
            pids["broker"] = plan.broker_pid
        commits_before = await _commits(plan.database_url)
        before = cpu.sample(pids)
        timed = await closed_loop(
            plan.clients, register_note, warmup_s=plan.warmup_s, duration_s=plan.duration_s
        )
        after = cpu.sample(pids)
        commits = await _commits(plan.database_url) - commits_before
        spent = cpu.per_operation(
            cpu.merged(before, "service"), cpu.merged(after, "service"), max(1, timed.completed)
        )
    return {
        "opened": len(idle),
        "opened_s": opened_s,
        "timed": timed,
        "statuses": statuses,
        "cpu": spent,
        "commits_per_command": round(commits / max(1, timed.completed), 3) if commits else None,
    }


async def _commits(database_url: str | None) -> int:
    """Transactions the database has committed so far (``pg_stat_database``; its counters
    lag by up to a second, little against a timed point of several)."""
    if database_url is None:
        return 0
    connection = await asyncpg.connect(plain_url(database_url))
    try:
        return int(
            await connection.fetchval(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )
        )
    finally:
        await connection.close()


def _client(plan: LoadPlan, base_url: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        base_url=base_url,
        headers={"Authorization": f"Bearer {plan.token}"},
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=60),
    )


FIRST_ABSENCE_DAY = date.today() - timedelta(days=14)


async def _open_cases(clients: list[aiohttp.ClientSession], plan: LoadPlan) -> list[CaseCursor]:
    """Open ``plan.cases`` cases, each client opening its share one after another."""

    async def open_one(client: aiohttp.ClientSession, index: int) -> CaseCursor:
        body = {
            "employee_id": f"emp-{index}",
            "manager_id": f"mgr-{index % 97}",
            "org_unit": f"unit-{index % 13}",
            "first_absence_day": FIRST_ABSENCE_DAY.isoformat(),
        }
        async with client.post(
            "/v1/cases", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        ) as response:
            response.raise_for_status()
            answer = await response.json()
        return CaseCursor(answer["case_id"], answer["version"])

    async def open_share(slot: int) -> list[CaseCursor]:
        client = clients[slot]
        return [await open_one(client, i) for i in range(slot, plan.cases, len(clients))]

    shares = await asyncio.gather(*(open_share(slot) for slot in range(len(clients))))
    return [cursor for share in shares for cursor in share]


async def _sick_note(client: aiohttp.ClientSession, cursor: CaseCursor) -> int:
    """One week's sick note after the last one; If-Match the version the client last saw."""
    start = FIRST_ABSENCE_DAY + timedelta(days=7 * cursor.notes)
    body = {
        "sick_note_id": f"n-{cursor.notes + 1}",
        "period_start": start.isoformat(),
        "period_end": (start + timedelta(days=6)).isoformat(),
        "grade": 100,
        "kind": "ordinary",
    }
    async with client.post(
        f"/v1/cases/{cursor.case_id}/sick-notes",
        json=body,
        headers={"Idempotency-Key": str(uuid.uuid4()), "If-Match": f'"{cursor.version}"'},
    ) as response:
        if response.status == 200:
            cursor.version = (await response.json())["version"]
            cursor.notes += 1
        else:
            await response.read()  # the connection is kept for the next request
        return response.status


def summarise(result: dict[str, Any]) -> tuple[Timed, dict[int, int]]:
    if "error" in result:
        raise RuntimeError(f"load generator failed: {result['error']}")
    timed: Timed = result["timed"]
    return timed, dict(result["statuses"])
