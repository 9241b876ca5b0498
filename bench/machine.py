"""What the figures were measured on: CPU, memory, load, Python and PostgreSQL versions."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]


def _proc_field(path: str, name: str) -> str | None:
    """The value of ``name: value`` in a /proc text file (Linux), or None."""
    try:
        for line in Path(path).read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        return None
    return None


def cpu_model() -> str:
    return _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "unknown"


def memory_gib() -> float | None:
    total = _proc_field("/proc/meminfo", "MemTotal")  # "24576000 kB"
    return round(int(total.split()[0]) / 1024**2, 1) if total else None


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


async def postgres_version(url: str) -> str:
    connection = await asyncpg.connect(plain_url(url))
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def machine_info() -> dict[str, Any]:
    """The machine as the results file records it (load average taken now)."""
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average": load_average(),
    }


def plain_url(url: str) -> str:
    """A SQLAlchemy asyncpg URL as asyncpg/libpq take it (``postgresql://``)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)
