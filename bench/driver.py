"""Closed-loop load: N workers repeat an operation; only what starts after the warm-up counts."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench import cpu
from bench.stats import Latencies, rate

CPU_NOTE = (
    "cpu_client_us: CPU µs per operation (warm-up included) of the harness process, where "
    "each system's client runs (eventsourcing's threads too); cpu_other_us: the rest of the "
    "machine's meanwhile (PostgreSQL, the kernel)."
)


@dataclass
class Timed:
    """What a timed run did: operations completed, their latencies, the conflicts they met.

    ``started_s[i]`` is when the operation of ``latencies.samples[i]`` started, in seconds
    after the measured window opened: whether slow operations cluster in time (a stall of
    the whole server) or spread (queueing) shows only with both.
    """

    operations: int = 0
    conflicts: int = 0
    elapsed_s: float = 0.0
    latencies: Latencies = field(default_factory=Latencies)
    started_s: list[float] = field(default_factory=list)
    opened_at: float = 0.0  # Unix time the measured window opened: to match servers' logs
    completed: int = 0  # every operation finished, the warm-up's too (CPU per operation)
    client_cpu_s: float = 0.0  # this process's CPU over the whole loop (all its threads)
    other_cpu_s: float = 0.0  # the rest of the machine's: PostgreSQL, the kernel, neighbours

    def per_second(self, multiplier: int = 1) -> float:
        return rate(self.operations * multiplier, self.elapsed_s)

    def cpu_us(self, multiplier: int = 1) -> dict[str, float]:
        """CPU µs per operation (times ``multiplier``: per event of a batch), warm-up included:
        the client's and the rest of the machine's."""
        done = max(1, self.completed * multiplier)
        return {
            "cpu_client_us": round(1e6 * self.client_cpu_s / done, 1),
            "cpu_other_us": round(1e6 * self.other_cpu_s / done, 1),
        }

    def add(self, other: Timed) -> None:
        """Pool another round of the same measurement into this one."""
        self.operations += other.operations
        self.completed += other.completed
        self.client_cpu_s += other.client_cpu_s
        self.other_cpu_s += other.other_cpu_s
        self.conflicts += other.conflicts
        self.elapsed_s += other.elapsed_s
        self.latencies.extend(other.latencies.samples)
        self.started_s.extend(other.started_s)  # offsets stay relative to their own round


def rounds_for(duration_s: float) -> int:
    """Long points are split into 3 interleaved rounds, so a burst of load from a neighbour
    on the machine falls on every system alike rather than on whichever ran then."""
    return 3 if duration_s >= 6 else 1


async def closed_loop(
    concurrency: int,
    operation: Callable[[], Awaitable[int | None]],
    *,
    warmup_s: float,
    duration_s: float,
) -> Timed:
    """Run ``operation`` back to back in ``concurrency`` workers for warm-up + duration.

    An operation returns how many conflicts it met (or None). Operations started during the
    warm-up are not counted; the clock stops when the last counted operation has finished.
    Every worker counts at least one operation, so an overloaded machine cannot make the
    window close empty. The CPU this process and the rest of the machine spent over the whole
    loop (warm-up included, as ``completed``) is charged to it.
    """
    timed = Timed()
    before = cpu.sample({"client": os.getpid()})
    measure_from = time.perf_counter() + warmup_s
    timed.opened_at = time.time() + warmup_s
    end = measure_from + duration_s
    finished = [end]

    async def worker() -> None:
        counted = False
        # Each worker counts at least one operation: on an overloaded machine a short window
        # could otherwise close before any operation started inside it.
        while (started := time.perf_counter()) < end or not counted:
            conflicts = await operation()
            done = time.perf_counter()
            timed.completed += 1
            if started >= measure_from:
                counted = True
                timed.operations += 1
                timed.conflicts += conflicts or 0
                timed.latencies.add(done - started)
                timed.started_s.append(started - measure_from)
                finished.append(done)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    timed.elapsed_s = max(finished) - measure_from
    after = cpu.sample({"client": os.getpid()})
    timed.client_cpu_s = after.processes["client"] - before.processes["client"]
    timed.other_cpu_s = max(0.0, after.machine_s - before.machine_s - timed.client_cpu_s)
    return timed
