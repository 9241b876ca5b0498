"""How fast the machine's cores ran: a fixed piece of pure-Python work, timed at a run's start
and end.

These machines are shared. W5 ran at 4 555 events/s in one hour and 7 367 in another, and
alternating the code before and after a change in the slow hour showed the same rate both ways
(BENCHMARKS.md, thirty-first round). W1 and W2 compare with peers measured in the same minutes,
but W3 to W6 have none, so the results file records how many rounds of this work one core did
per second of wall time and per second of CPU time, to tell a slow hour from a slow change. A
round is what the services do most: render and parse a small JSON payload, build a dict, sort
a few keys. It also records the share of the cores' time the hypervisor gave to others.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

# W1's and W2's payload (``bench.writers.PAYLOAD``) as it was when this was written, copied
# on purpose: the yardstick must stay the same work from run to run, whatever a workload's
# payload becomes.
_PAYLOAD = {
    "case_id": "6a0c7a7e-1d6c-4f1e-9b8e-2f0f3f8f5c11",
    "sick_note_id": "n-1",
    "period_start": "2026-01-08",
    "period_end": "2026-01-25",
    "grade": 100,
    "kind": "ordinary",
    "received_on": "2026-01-09",
}
_ROUNDS_A_BATCH = 200
_TICK = os.sysconf("SC_CLK_TCK")


def _round() -> int:
    parsed = json.loads(json.dumps(_PAYLOAD))
    keyed = {f"{key}:{index}": value for index, (key, value) in enumerate(parsed.items())}
    return len(sorted(keyed, reverse=True))


def core_speed(seconds: float = 0.5) -> dict[str, Any]:
    """Rounds of the fixed work one core did in about ``seconds``: per second of wall time
    and per second of this process's CPU time (a neighbour taking the core lowers the first;
    one sharing its caches or its clock lowers both)."""
    rounds = 0
    wall_began, cpu_began = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall_began < seconds:
        for _ in range(_ROUNDS_A_BATCH):
            _round()
        rounds += _ROUNDS_A_BATCH
    wall = time.perf_counter() - wall_began
    cpu = time.process_time() - cpu_began
    return {
        "rounds": rounds,
        "rounds_per_s": round(rounds / wall),
        "rounds_per_cpu_s": round(rounds / cpu) if cpu > 0 else None,
    }


def steal_s() -> float | None:
    """CPU seconds the hypervisor gave to others while this VM's cores wanted them, since
    boot, all cores (``/proc/stat``'s steal); None where the kernel does not tell."""
    try:
        with open("/proc/stat") as stat:
            values = stat.readline().split()[1:]
    except OSError:
        return None
    return int(values[7]) / _TICK if len(values) > 7 else None


def stolen_share(
    before: float | None, after: float | None, wall_s: float, cores: int
) -> float | None:
    """The share of the cores' time stolen between two ``steal_s`` readings."""
    if before is None or after is None or wall_s <= 0 or cores < 1:
        return None
    return round((after - before) / (wall_s * cores), 4)
