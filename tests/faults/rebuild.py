"""Every projection must equal a rebuild from the event store: the services are stopped, their
projection tables read, ``naervaer rebuild <service>`` run as an operator would, and the tables
read again and compared row for row."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from naervaer.testing.processes import NAERVAER, ServiceProcesses

from .stores import Stores

PROJECTION_TABLES: dict[str, tuple[str, ...]] = {
    "case": ("case_summaries",),
    "deadline": ("cases", "case_events", "obligations", "timers"),
    "notification": ("case_parties", "meetings"),
    "document": ("case_parties",),
}
"""The tables each service's ``rebuild`` resets and refills (the deadline service keeps its
fired timers, which a rebuild must leave exactly as they were)."""
REBUILD_TIMEOUT_S = 120.0

Snapshot = dict[str, list[tuple[Any, ...]]]


async def snapshot(stores: Stores, key: str) -> Snapshot:
    tables = {}
    for name in PROJECTION_TABLES[key]:
        table = stores.table(key, name)
        rows = await stores.rows(key, select(table).order_by(*table.primary_key.columns))
        tables[name] = [tuple(row) for row in rows]
    return tables


async def rebuilds_equal_live(system: ServiceProcesses, stores: Stores) -> int:
    """Stop every service, rebuild each one's projections (in parallel: they share nothing),
    and compare; returns the rows compared. The services stay stopped: this is the end."""
    keys = list(PROJECTION_TABLES)
    await asyncio.gather(*(system.stop(key) for key in keys))
    live = {key: await snapshot(stores, key) for key in keys}
    await asyncio.gather(*(_naervaer_rebuild(system, key) for key in keys))
    for key in keys:
        rebuilt = await snapshot(stores, key)
        for name in PROJECTION_TABLES[key]:
            same = rebuilt[name] == live[key][name]
            assert same, _difference(key, name, live[key][name], rebuilt[name])
    return sum(len(rows) for tables in live.values() for rows in tables.values())


async def _naervaer_rebuild(system: ServiceProcesses, key: str) -> None:
    process = await asyncio.create_subprocess_exec(
        str(NAERVAER),
        "rebuild",
        key,
        env=system.config.environment(),
        cwd=system.config.data_dir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), REBUILD_TIMEOUT_S)
    assert process.returncode == 0, f"naervaer rebuild {key}:\n{output.decode()[-4000:]}"


def _difference(
    key: str, name: str, live: list[tuple[Any, ...]], rebuilt: list[tuple[Any, ...]]
) -> str:
    only_live = [row for row in live if row not in rebuilt]
    only_rebuilt = [row for row in rebuilt if row not in live]
    return (
        f"{key}: {name} differs from its rebuild ({len(live)} live rows, {len(rebuilt)} "
        f"rebuilt); only live: {only_live[:3]}; only rebuilt: {only_rebuilt[:3]}"
    )
