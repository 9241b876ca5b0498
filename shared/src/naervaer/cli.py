"""``naervaer``: the one command for everything a user runs.

Every command honours ``--data-dir`` (env ``NAERVAER_DATA_DIR``), ``--database-url``
(``NAERVAER_DATABASE_URL``) and ``--kafka`` (``NAERVAER_KAFKA_BOOTSTRAP``).
"""

from __future__ import annotations

import asyncio
import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from naervaer.clock import ControlledClock
from naervaer.settings import PlatformSettings

app = typer.Typer(
    name="naervaer",
    no_args_is_help=True,
    add_completion=False,
    help="Nærvær: sick-leave follow-up by the book.",
)
clock_app = typer.Typer(
    no_args_is_help=True, help="Development clock control (never in production)."
)
app.add_typer(clock_app, name="clock")
err = Console(stderr=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="NAERVAER_DATA_DIR", help="Data folder [default: ./.naervaer]"
    ),
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="NAERVAER_DATABASE_URL",
        help="PostgreSQL URL; unset: SQLite files in the data folder",
    ),
]
Kafka = Annotated[
    str | None,
    typer.Option(
        "--kafka",
        envvar="NAERVAER_KAFKA_BOOTSTRAP",
        help="Kafka bootstrap servers; unset: the embedded transport",
    ),
]


def platform_settings(
    data_dir: Path | None = None, database_url: str | None = None, kafka: str | None = None
) -> PlatformSettings:
    """Environment settings with the command line's overrides on top."""
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    if kafka is not None:
        overrides["kafka_bootstrap"] = kafka
    settings = PlatformSettings(**overrides)  # type: ignore[arg-type]
    # Services spawned from here (and their settings objects) see the same choices.
    os.environ["NAERVAER_DATA_DIR"] = str(settings.data_dir)
    return settings


@app.command()
def up(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    kafka: Kafka = None,
    migrate: Annotated[bool, typer.Option(help="Run migrations before starting")] = True,
) -> None:
    """Start all four services in one process (the embedded default: SQLite + no Kafka)."""
    from naervaer.hosting import serve_services

    platform = platform_settings(data_dir, database_url, kafka)
    asyncio.run(serve_services(platform, keys=None, migrate=migrate))


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="case, deadline, notification or document")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    kafka: Kafka = None,
    migrate: Annotated[bool, typer.Option(help="Run migrations before starting")] = True,
) -> None:
    """Run one service alone, as a real deployment does."""
    from naervaer.hosting import serve_services

    platform = platform_settings(data_dir, database_url, kafka)
    asyncio.run(serve_services(platform, keys=[service], migrate=migrate))


@app.command()
def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Keep the demo's data here (default: a temporary folder, removed after)",
        ),
    ] = None,
) -> None:
    """Tell the story of one sick-leave case over a year, through the services' REST APIs."""
    # No envvar on --data-dir: a NAERVAER_DATA_DIR of yours must not receive the demo's case.
    try:
        from naervaer.demo import run_demo
    except ModuleNotFoundError as exc:  # the extra "demo" (the workspace's dev tools have it)
        if exc.name not in ("aiosmtpd", "httpx"):
            raise
        err.print(f"the demo needs {exc.name}: uv sync --all-packages, or naervaer-shared[demo]")
        raise typer.Exit(2) from exc
    raise typer.Exit(asyncio.run(run_demo(data_dir)))


@app.command()
def migrate(
    service: Annotated[str, typer.Argument(help="A service, or 'all'")] = "all",
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    kafka: Kafka = None,
) -> None:
    """Bring the databases up to date (the one-shot step of a deployment)."""
    from naervaer.hosting import migrate_services, select_services

    platform = platform_settings(data_dir, database_url, kafka)
    keys = None if service == "all" else [service]
    asyncio.run(migrate_services(platform, select_services(keys)))


@app.command()
def rebuild(
    service: Annotated[str, typer.Argument(help="The service whose projections to rebuild")],
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    kafka: Kafka = None,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes a projection that keeps tenants apart is rebuilt in, on PostgreSQL "
            "(each replays a share of the tenants) [default: the cores, at most 4]",
        ),
    ] = None,
) -> None:
    """Rebuild a service's projections from scratch by replaying the event store."""
    from naervaer.rebuilding import default_processes, rebuild_service

    platform = platform_settings(data_dir, database_url, kafka)
    chosen = processes or default_processes()
    asyncio.run(rebuild_service(platform, service, processes=chosen))


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def bench(ctx: typer.Context) -> None:
    """Run the benchmark harness (bench/ in the repository); `naervaer bench --help` lists its
    options, e.g. `naervaer bench --workload 1 --scale small`. See BENCHMARKS.md."""
    import subprocess
    import sys

    root = _repository_root()
    if root is None:
        err.print("the benchmark harness (bench/) ships with the repository, not the package")
        raise typer.Exit(2)
    done = subprocess.run([sys.executable, "-m", "bench", *ctx.args], cwd=root, check=False)
    raise typer.Exit(done.returncode)


def _repository_root() -> Path | None:
    """The checkout holding bench/: above the working folder, else above this file."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            if (folder / "bench" / "__main__.py").is_file():
                return folder
    return None


@app.command()
def schemas(
    check: Annotated[bool, typer.Option("--check", help="Fail when schemas/ has drifted")] = False,
    out: Annotated[Path, typer.Option(help="Schema folder")] = Path("schemas"),
) -> None:
    """Write (or check) the JSON Schema of every event type into schemas/."""
    from naervaer.contracts import CONTRACTS
    from naervaer.schemas import check_schemas, write_schemas

    if check:
        drift = check_schemas(CONTRACTS, out)
        for line in drift:
            err.print(f"[red]drift[/red] {line}")
        raise typer.Exit(1 if drift else 0)
    for path in write_schemas(CONTRACTS, out):
        typer.echo(path)


@app.command()
def asyncapi(
    check: Annotated[bool, typer.Option("--check", help="Fail when the file has drifted")] = False,
    out: Annotated[Path, typer.Option(help="The AsyncAPI file")] = Path("asyncapi.yaml"),
    schemas_dir: Annotated[Path, typer.Option("--schemas", help="Schema folder")] = Path("schemas"),
) -> None:
    """Write (or check) asyncapi.yaml: the topics, keys and messages integrators consume."""
    from naervaer.asyncapi import check_document, write_document
    from naervaer.contracts import CONTRACTS

    if check:
        drift = check_document(CONTRACTS, out, schemas_dir)
        for line in drift:
            err.print(line, markup=False, highlight=False)
        raise typer.Exit(1 if drift else 0)
    if write_document(CONTRACTS, out, schemas_dir):
        typer.echo(out)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant (employer) id")],
    role: Annotated[list[str], typer.Option(help="Role; repeat for several")],
    sub: Annotated[str, typer.Option(help="Subject: the user's id")],
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds")] = 3600,
    data_dir: DataDir = None,
) -> None:
    """Mint a bearer token with the data folder's dev key (prints the token alone)."""
    from naervaer.auth.devkeys import mint_token

    platform = platform_settings(data_dir)
    if platform.environment == "production":
        err.print("dev tokens are disabled in production")
        raise typer.Exit(2)
    typer.echo(mint_token(platform.data_dir, tenant=tenant, roles=role, sub=sub, ttl_s=ttl))


@app.command()
def verify(
    dossier: Annotated[
        Path, typer.Argument(help="The dossier ZIP", exists=True, dir_okay=False, readable=True)
    ],
    public_key: Annotated[
        str,
        typer.Option(
            "--public-key",
            help="The audit key you trust: a PEM file, a keys JSON file, or the URL of "
            "GET /v1/audit/keys",
        ),
    ],
) -> None:
    """Check a case dossier offline: manifest hashes, chain links, signatures (exit 1: tampered)."""
    from naervaer.dossier.trust import load_trusted_keys
    from naervaer.dossier.verify import verify_dossier

    try:
        keys = load_trusted_keys(public_key)
    except ValueError as exc:
        err.print(f"cannot use the public key: {exc}")
        raise typer.Exit(2) from exc
    report = verify_dossier(dossier.read_bytes(), keys)
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(0 if report.ok else 1)


@clock_app.command("set")
def clock_set(
    moment: Annotated[
        datetime, typer.Argument(help="ISO datetime, e.g. 2026-03-02T09:00:00+01:00")
    ],
    data_dir: DataDir = None,
) -> None:
    """Move every service's clock (sharing this data folder) to MOMENT."""
    clock = _dev_clock(data_dir)
    clock.set(moment if moment.tzinfo else moment.astimezone())
    typer.echo(clock.now().isoformat(timespec="seconds"))


@clock_app.command("show")
def clock_show(data_dir: DataDir = None) -> None:
    """Print the services' current time."""
    typer.echo(_dev_clock(data_dir).now().isoformat(timespec="seconds"))


@clock_app.command("reset")
def clock_reset(data_dir: DataDir = None) -> None:
    """Back to real time."""
    _dev_clock(data_dir).reset()
    typer.echo("reset")


def _dev_clock(data_dir: Path | None) -> ControlledClock:
    platform = platform_settings(data_dir)
    if platform.environment == "production":
        err.print("the clock control is disabled in production")
        raise typer.Exit(2)
    return ControlledClock(platform.data_dir / "clock.json")


def main() -> None:
    app()
