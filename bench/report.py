"""The run's report: a rich table per workload on the console, everything in a JSON file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.results import WorkloadResult

MET = {True: "[green]met[/green]", False: "[red]missed[/red]", None: "[dim]n/a[/dim]"}


def print_workload(console: Console, result: WorkloadResult) -> None:
    title = f"{result.title}  ({result.wall_s:.0f} s)"
    console.print(_single(title, result.rows[0]) if len(result.rows) == 1 else _grid(title, result))
    if result.checks:
        checks = Table(show_header=True, box=None, padding=(0, 2))
        for column in ("target", "measured", ""):
            checks.add_column(column)
        for check in result.checks:
            checks.add_row(check.target, check.measured, MET[check.met])
        console.print(checks)
    for note in result.notes:
        console.print(f"  [dim]{note}[/dim]")


def _grid(title: str, result: WorkloadResult) -> Table:
    table = Table(title=title, title_justify="left")
    columns = list(dict.fromkeys(key for row in result.rows for key in row))
    for column in columns:
        table.add_column(column, justify="left" if column == "system" else "right")
    for row in result.rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    return table


def _single(title: str, row: dict[str, Any]) -> Table:
    """One row reads better as a list of measures than as a wide table."""
    table = Table(title=title, title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in row.items():
        table.add_row(key, _cell(value))
    return table


def write_results(out_dir: Path, report: dict[str, Any], started: datetime) -> Path:
    """``<out_dir>/<timestamp>.json``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return path


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
