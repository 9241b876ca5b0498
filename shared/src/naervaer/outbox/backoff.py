"""Capped exponential backoff with jitter, for retrying through outages."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, *, base_s: float, cap_s: float) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, …): doubling, capped, jittered.

    The jitter (50 to 100 % of the step) keeps replicas that failed together from retrying in
    lockstep against a broker that is just coming back.
    """
    step = min(cap_s, base_s * 2.0 ** max(attempt - 1, 0))
    return step * random.uniform(0.5, 1.0)
