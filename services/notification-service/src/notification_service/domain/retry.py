"""Retrying a failed delivery: exponential backoff with full jitter, and when to give up."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """After failed attempt n, wait a uniform random time in [0, min(cap, base · 2^(n-1))].

    Full jitter spreads the retries of many deliveries that failed together (an SMTP relay or
    an HR suite that was down) instead of hammering it in waves when it comes back.
    """

    base_s: float = 30.0
    cap_s: float = 3600.0
    max_attempts: int = 8

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or self.max_attempts < 1:
            raise ValueError("need 0 < base_s <= cap_s and max_attempts >= 1")

    def gives_up_after(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def delay_s(
        self, attempts: int, uniform: Callable[[float, float], float] = random.uniform
    ) -> float:
        """Seconds to wait after ``attempts`` failed attempts (1, 2, …)."""
        ceiling = min(self.cap_s, self.base_s * 2.0 ** max(attempts - 1, 0))
        return uniform(0.0, ceiling)
