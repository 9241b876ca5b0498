"""Sizes of every workload, as presets (``--scale``) with single overrides on top."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ServiceSettings = tuple[tuple[str, str], ...]
"""Settings (environment variable, value) the services the harness starts get, over its own."""

LogOrder = Literal["calendar", "cases"]
"""W5's log: a year's steps interleaved day by day, or each case whole (imported histories)."""


@dataclass(frozen=True)
class Scale:
    """How big each workload is (and how W5's log is ordered). ``full`` is the issue's
    default; ``tiny`` is the smoke test."""

    name: str
    duration_s: float  # the measured phase of each timed point (W1-W4)
    warmup_s: float  # run, then thrown away, before each timed point
    concurrency: tuple[int, ...]  # W1: concurrent writers
    streams: int  # W1: case streams the Zipf choice draws from
    batch_sizes: tuple[int, ...]  # W2: events per append
    batch_writers: int  # W2: concurrent writers
    http_clients: int  # W3: requests in flight
    http_cases: int  # W3: cases the sick notes go to
    rates: tuple[int, ...]  # W4: fixed append rates, events/s
    latency_cases: int  # W4: cases the events go to
    burst_events: int  # W4: events appended at once to find the highest sustainable rate
    rebuild_events: int  # W5: events replayed into the deadline projection
    year_cases: int  # W6: sick-leave cases in the generated year
    writers: int  # W5/W6: concurrent writers filling the store
    kafka_session_timeout_ms: int  # W4/W6 services: also how long a group's first join takes
    rebuild_log_order: LogOrder = "calendar"  # W5: the order of the log replayed
    # W3: case service processes, one row each; 1 runs alone on the embedded transport, more
    # run in Kafka mode (as deploy/ runs replicas), the load generator's clients spread over them
    http_replicas: tuple[int, ...] = (1,)


SCALES = {
    "tiny": Scale(
        name="tiny",
        duration_s=0.5,
        warmup_s=0.1,
        concurrency=(1, 4),
        streams=200,
        batch_sizes=(10, 100),
        batch_writers=2,
        http_clients=4,
        http_cases=8,
        rates=(20,),
        latency_cases=10,
        burst_events=20,
        rebuild_events=150,
        year_cases=10,
        writers=4,
        kafka_session_timeout_ms=3_000,
    ),
    "small": Scale(
        name="small",
        duration_s=8.0,
        warmup_s=1.0,
        concurrency=(1, 4, 16, 64),
        streams=10_000,
        batch_sizes=(10, 100, 500),
        batch_writers=4,
        http_clients=32,
        http_cases=2_000,
        rates=(200, 1_000),
        latency_cases=2_000,
        burst_events=2_000,
        rebuild_events=50_000,
        year_cases=5_000,
        writers=8,
        kafka_session_timeout_ms=6_000,
    ),
    "full": Scale(
        name="full",
        duration_s=15.0,
        warmup_s=2.0,
        concurrency=(1, 4, 16, 64),
        streams=10_000,
        batch_sizes=(10, 100, 500),
        batch_writers=4,
        http_clients=32,
        http_cases=5_000,
        rates=(200, 1_000),
        latency_cases=5_000,
        burst_events=20_000,
        rebuild_events=1_000_000,
        year_cases=1_000_000,
        writers=8,
        kafka_session_timeout_ms=6_000,
    ),
}


@dataclass(frozen=True)
class Options:
    """What one run of the harness does and where it reports."""

    workloads: tuple[int, ...]
    scale: Scale
    out_dir: Path
    database_url: str | None = None  # an existing server instead of one started with fsync on
    kafka: str | None = None  # an existing broker instead of a Tansu started here
    traces: bool = False  # services export every span (OTLP, to a sink), as to a collector
    service_settings: ServiceSettings = ()  # ``--service-setting``: every service process's
