"""``python -m bench``: the command line of the harness (also ``naervaer bench``)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import get_args

from rich.console import Console

from bench.config import SCALES, LogOrder, Options, Scale
from bench.services import service_settings_of

ALL = (1, 2, 3, 4, 5, 6)
RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Nærvær benchmarks (see BENCHMARKS.md). Each workload prints a table; the "
        "run writes bench/results/<timestamp>.json.",
    )
    parser.add_argument(
        "-w",
        "--workload",
        action="append",
        choices=[*map(str, ALL), "all"],
        help="Workload to run (repeat for several) [default: all]",
    )
    parser.add_argument("--scale", choices=list(SCALES), default="full", help="Size preset")
    parser.add_argument("--duration", type=float, help="Seconds per timed point (W1-W4)")
    parser.add_argument("--concurrency", help="W1 writers, comma-separated (e.g. 1,4,16,64)")
    parser.add_argument(
        "--replicas",
        help="W3 case service processes, comma-separated, one row each (e.g. 1,2): 1 runs "
        "alone (embedded transport), more in Kafka mode, and then a row of 1 in Kafka mode is "
        "added [default: 1]",
    )
    parser.add_argument("--events", type=int, help="W5: events to replay")
    parser.add_argument(
        "--log-order",
        choices=get_args(LogOrder),
        help="W5: the log's order, a year's commands day by day (calendar) or each case whole "
        "(cases, imported histories) [default: calendar]",
    )
    parser.add_argument("--cases", type=int, help="W6: cases in the generated year")
    parser.add_argument("--rates", help="W4 fixed rates in events/s, comma-separated")
    parser.add_argument("--database-url", help="Use this PostgreSQL server (default: start one)")
    parser.add_argument("--kafka", help="Use this Kafka bootstrap (default: start Tansu)")
    parser.add_argument(
        "--traces",
        action="store_true",
        help="Services export every span over OTLP (to a sink the harness runs), as they "
        "would to a collector: what tracing costs (W3, W4, W6)",
    )
    parser.add_argument(
        "--service-setting",
        action="append",
        default=[],
        metavar="NAERVAER_NAME=VALUE",
        help="A setting every service process of W3, W4 and W6 gets (repeat for several), over "
        "the harness's own, e.g. NAERVAER_KAFKA_FETCH_MIN_BYTES=16384; not those that tie the "
        "services to the harness (database, data folder, keys, topics, broker, ports); "
        "recorded in the results",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results folder")
    args = parser.parse_args(argv)
    try:
        service_settings = service_settings_of(args.service_setting)
    except ValueError as error:
        parser.error(str(error))  # exits
    return Options(
        workloads=_workloads(args.workload),
        scale=_scale(args),
        out_dir=args.out,
        database_url=args.database_url,
        kafka=args.kafka,
        traces=args.traces,
        service_settings=service_settings,
    )


def _workloads(chosen: list[str] | None) -> tuple[int, ...]:
    if not chosen or "all" in chosen:
        return ALL
    return tuple(sorted({int(number) for number in chosen}))


def _scale(args: argparse.Namespace) -> Scale:
    scale = SCALES[args.scale]
    changes: dict[str, object] = {}
    if args.duration is not None:
        changes["duration_s"] = args.duration
    if args.concurrency:
        changes["concurrency"] = _numbers(args.concurrency)
    if args.rates:
        changes["rates"] = _numbers(args.rates)
    if args.replicas:
        changes["http_replicas"] = _numbers(args.replicas)
    if args.events is not None:
        changes["rebuild_events"] = args.events
    if args.log_order is not None:
        changes["rebuild_log_order"] = args.log_order
    if args.cases is not None:
        changes["year_cases"] = args.cases
    return dataclasses.replace(scale, **changes)  # type: ignore[arg-type]


def _numbers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def main(argv: Sequence[str] | None = None) -> None:
    options = parse(argv)
    from bench.run import run  # after parsing: --help needs none of the heavy imports
    from naervaer.gc_tuning import collect_less_while_serving, freeze_start_up

    # The clients of W1 and W2 (the store, and the peers beside it) run in this process: it
    # collects as a service process does (as the case service's store would run), not at
    # CPython's default threshold, at which about a quarter of the store's client CPU an event
    # on 500-event appends went to the collector (BENCHMARKS.md, thirty-first round).
    freeze_start_up()
    collect_less_while_serving()
    asyncio.run(run(options, Console(width=max(120, Console().width))))


if __name__ == "__main__":
    main()
