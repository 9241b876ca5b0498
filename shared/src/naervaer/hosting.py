"""Serving services with uvicorn: one, or all four in one process (``naervaer up``)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Generator, Sequence

import structlog
import uvicorn

from naervaer.gc_tuning import collect_less_while_serving, freeze_start_up
from naervaer.migrations import target_for, upgrade
from naervaer.observability.logging import configure_logging
from naervaer.privacy.vault_setup import install_vault
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, discover_services
from naervaer.settings import PlatformSettings

log = structlog.get_logger("naervaer.hosting")


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (several share one process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def select_services(keys: Sequence[str] | None) -> list[ServiceSpec]:
    specs = discover_services()
    if keys is None:
        return list(specs.values())
    unknown = [key for key in keys if key not in specs]
    if unknown:
        raise SystemExit(f"unknown service(s) {unknown}; known: {', '.join(specs)}")
    return [specs[key] for key in keys]


async def migrate_services(platform: PlatformSettings, specs: Sequence[ServiceSpec]) -> None:
    for spec in specs:
        await upgrade(spec, target_for(spec, platform))
        log.info("migrated", service=spec.name)
    await install_vault(platform)


async def serve_services(
    platform: PlatformSettings, *, keys: Sequence[str] | None, migrate: bool
) -> None:
    """Run the chosen services until SIGINT/SIGTERM, then shut down cleanly."""
    configure_logging(level=platform.log_level, fmt=platform.log_format)
    specs = select_services(keys)
    if migrate:
        await migrate_services(platform, specs)
    all_specs = discover_services()
    servers = [_server(ServiceRuntime(spec, platform, all_specs), platform) for spec in specs]
    freeze_start_up()
    collect_less_while_serving()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _request_exit, servers)
    try:
        await asyncio.gather(*(server.serve() for server in servers))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _server(runtime: ServiceRuntime, platform: PlatformSettings) -> _Server:
    config = uvicorn.Config(
        runtime.app,
        host=platform.host,
        port=runtime.port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=15,
        access_log=False,
        reset_contextvars=True,
    )
    return _Server(config)


def _request_exit(servers: Sequence[uvicorn.Server]) -> None:
    log.info("shutting down")
    for server in servers:
        server.should_exit = True
