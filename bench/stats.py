"""Latency percentiles, throughput and the Zipf choice of hot streams."""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, nearest-rank; NaN when empty."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Latencies:
    """Samples in seconds; ``summary()`` reports milliseconds."""

    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def extend(self, seconds: list[float]) -> None:
        self.samples.extend(seconds)

    def __len__(self) -> int:
        return len(self.samples)

    def summary(self, *quantiles: float) -> dict[str, float]:
        """``p50_ms`` etc. for each quantile asked (default 50 and 99), rounded to 0.01 ms."""
        ordered = sorted(self.samples)
        return {
            f"p{q:g}_ms": round(percentile(ordered, q) * 1000, 2) for q in quantiles or (50, 99)
        }


def slowest(
    started_s: list[float], latencies_s: list[float], fraction: float = 0.01
) -> list[dict[str, float]]:
    """The slowest ``fraction`` of operations (at least one), in the order they started:
    ``start_s`` after the window opened and ``ms`` each, so a stall shows as a run of
    neighbouring starts and queueing as starts spread over the whole window."""
    if not latencies_s:
        return []
    count = max(1, math.ceil(len(latencies_s) * fraction))
    ranked = sorted(zip(started_s, latencies_s, strict=True), key=lambda pair: -pair[1])
    return [
        {"start_s": round(start, 3), "ms": round(seconds * 1000, 1)}
        for start, seconds in sorted(ranked[:count])
    ]


def rate(count: int, seconds: float) -> float:
    """Events (or commands) per second, rounded; 0 when nothing was timed."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


class Zipf:
    """Ranks 0 … n-1 drawn with probability ∝ 1 / (rank + 1)^s: a few streams are hot.

    Sick-leave cases are like that too: most get a handful of events, a few are busy.
    """

    def __init__(self, n: int, s: float = 1.0, seed: int = 8) -> None:
        if n < 1:
            raise ValueError("a Zipf choice needs at least one rank")
        total, cumulative = 0.0, []
        for rank in range(1, n + 1):
            total += 1 / rank**s
            cumulative.append(total)
        self._cumulative = cumulative
        self._total = total
        self._random = random.Random(seed)

    def __call__(self) -> int:
        point = self._random.random() * self._total
        return min(bisect.bisect_left(self._cumulative, point), len(self._cumulative) - 1)
