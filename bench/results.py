"""What a workload reports: its parameters, a table of rows, the issue's targets checked."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    """One target of the issue against what was measured; ``met`` None: not measured."""

    target: str
    measured: str
    met: bool | None


@dataclass
class WorkloadResult:
    key: str  # "w1" … "w6"
    title: str
    params: dict[str, Any]
    rows: list[dict[str, Any]]
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None
