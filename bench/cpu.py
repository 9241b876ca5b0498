"""Where a workload's CPU goes: the machine's busy time split by process, per operation.

A target that asks for N operations a second on a 2-core box is bounded by what one operation
costs in CPU across every process that serves it (the service, the load generator, PostgreSQL,
the kernel). Sampling the machine's busy time (``/proc/stat``) and the known processes' CPU
(``/proc/<pid>/stat``) before and after a run gives that cost; its *ceiling* is the rate at
which the cores would be saturated: ``cores / CPU seconds per operation``. Whatever the
known processes did not use (PostgreSQL, the broker, the kernel, a neighbour) is ``other``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TICK = os.sysconf("SC_CLK_TCK")
# /proc/stat's cpu line: user nice system idle iowait irq softirq steal guest guest_nice.
# Busy is all but idle and iowait; guest time is already counted in user.
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)


@dataclass(frozen=True)
class CpuSample:
    """The machine's busy CPU seconds and some processes' CPU seconds, at one moment."""

    wall_s: float
    machine_s: float
    processes: dict[str, float]


def process_cpu_s(pid: int, *, children: bool = False) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (``children``: and of its children
    that have ended and been waited for); None once it has exited."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime, stime, cutime, cstime: stat's 14th to 17th
    return sum(int(fields[i]) for i in ((11, 12, 13, 14) if children else (11, 12))) / _TICK


def machine_busy_s() -> float:
    """Busy CPU seconds of all cores since boot."""
    with open("/proc/stat") as stat:
        values = stat.readline().split()[1:]
    return sum(int(values[i]) for i in _BUSY_FIELDS if i < len(values)) / _TICK


def sample(pids: Mapping[str, int], *, with_children: Collection[str] = ()) -> CpuSample:
    """Now: the machine's busy time and each named process's CPU time (those named in
    ``with_children`` with their ended children's: a rebuild's shares)."""
    processes = {
        name: process_cpu_s(pid, children=name in with_children) for name, pid in pids.items()
    }
    return CpuSample(
        wall_s=time.monotonic(),
        machine_s=machine_busy_s(),
        processes={name: cpu for name, cpu in processes.items() if cpu is not None},
    )


def merged(sample_: CpuSample, prefix: str) -> CpuSample:
    """``sample_`` with the processes named ``prefix…`` (a service's replicas) as one."""
    processes = {k: v for k, v in sample_.processes.items() if not k.startswith(prefix)}
    replicas = [v for k, v in sample_.processes.items() if k.startswith(prefix)]
    if replicas:
        processes[prefix] = sum(replicas)
    return CpuSample(sample_.wall_s, sample_.machine_s, processes)


def per_operation(before: CpuSample, after: CpuSample, operations: int) -> dict[str, Any]:
    """CPU milliseconds per operation by process (``other``: the rest of the machine), the
    machine's use of its cores meanwhile, and the ceiling: operations/s at full cores."""
    cores = os.cpu_count() or 1
    wall = after.wall_s - before.wall_s
    machine = after.machine_s - before.machine_s
    spent = _spent(before, after)
    total = sum(spent.values())
    ms = {f"{name}_ms": round(1000 * s / operations, 3) for name, s in spent.items()}
    return {
        "operations": operations,
        "cpu_ms_per_op": ms | {"total_ms": round(1000 * total / operations, 3)},
        "cores_busy": round(machine / wall, 2) if wall > 0 else None,
        "cores": cores,
        "ceiling_per_s": round(cores * operations / total, 1) if total > 0 else None,
    }


def row_columns(spent: Mapping[str, Any]) -> dict[str, Any]:
    """``per_operation``'s figures as a row's columns: ``cpu_<process>_us``, the µs of CPU an
    operation of each process (``other``, ``total``), and ``cores_busy``."""
    return {
        **{
            f"cpu_{name[:-3]}_us": round(1000 * ms, 1)
            for name, ms in spent["cpu_ms_per_op"].items()
        },
        "cores_busy": spent["cores_busy"],
    }


def per_second(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU milliseconds a second of wall time by process (``other``: the rest of the
    machine), and the machine's (``total_ms``)."""
    wall = after.wall_s - before.wall_s
    spent = _spent(before, after)
    ms = {f"{name}_ms": round(1000 * s / wall, 1) for name, s in spent.items()}
    return ms | {"total_ms": round(1000 * sum(spent.values()) / wall, 1)}


def _spent(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds by process between the samples, and ``other``: the rest of the machine's
    busy time (a process that exited meanwhile counts there)."""
    spent = {
        name: after.processes[name] - before.processes[name]
        for name in after.processes
        if name in before.processes
    }
    spent["other"] = max(0.0, after.machine_s - before.machine_s - sum(spent.values()))
    return spent
