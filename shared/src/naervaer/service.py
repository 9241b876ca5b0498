"""What a service declares about itself, so one runtime can host any of the four.

Each service package exposes a ``SERVICE: ServiceSpec`` under the ``naervaer.services`` entry
point group; the CLI finds them there (the shared library never imports a service).

Every process lists every installed service (to know who publishes which topic, and where
its log is), so a spec is light: names, tables, settings. A service's application — routes,
projections, a PDF renderer — is imported by its ``wire`` (``wired_by``) only in the process
that runs it: a deadline service process does not load the document service's stack.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.metadata
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.clock import Clock
from naervaer.db import DatabaseTarget
from naervaer.eventstore import EventStore, EventStoreTables
from naervaer.messaging import ConsumerTables, Projection, Subscription
from naervaer.messaging.rebuild import BatchProjection
from naervaer.privacy.keyvault import KeyVault
from naervaer.settings import PlatformSettings, ServiceSettings


@dataclass(frozen=True)
class ServiceContext:
    """Everything the runtime built for one service, handed to its wiring function."""

    spec: ServiceSpec
    platform: PlatformSettings
    settings: ServiceSettings
    target: DatabaseTarget
    engine: AsyncEngine
    tracer_provider: TracerProvider
    clock: Clock
    store: EventStore | None
    vault: KeyVault

    def topic(self, name: str) -> str:
        """The full Kafka topic name of ``name`` (e.g. case-events)."""
        return f"{self.platform.topic_prefix}{name}"


@dataclass
class Wiring:
    """A service's HTTP routers, its subscriptions and the projections it can rebuild."""

    routers: Sequence[APIRouter] = ()
    subscriptions: Sequence[Subscription] = ()
    projections: Sequence[Projection] = ()
    # put on app.state for the routes' dependencies (e.g. {"handlers": Handlers(...)})
    state: Mapping[str, object] = field(default_factory=dict)
    # called with the app, e.g. to add the service's own exception handlers
    install: Sequence[Callable[[FastAPI], None]] = ()
    # long-running tasks by name, started with the app and given the stop event (e.g. timers)
    background: Mapping[str, Callable[[asyncio.Event], Awaitable[None]]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # e.g. "case-service"
    key: str  # e.g. "case", as typed on the command line
    title: str
    description: str
    default_port: int
    settings_cls: type[ServiceSettings]
    metadata: MetaData
    migrations_dir: Path
    wire: Callable[[ServiceContext], Wiring]
    event_store: EventStoreTables | None = None
    consumer_tables: ConsumerTables | None = None
    # topic name (without prefix) → published from this service's event store through its outbox
    publishes: tuple[str, ...] = field(default=())
    # for rebuilds and the embedded transport: topic (without prefix) this service consumes
    consumes: tuple[str, ...] = field(default=())


def wired_by(module: str) -> Callable[[ServiceContext], Wiring]:
    """The ``wire`` function of ``module``, imported when the service is wired, not when the
    service is listed (``discover_services``)."""

    def wire(context: ServiceContext) -> Wiring:
        wiring: Callable[[ServiceContext], Wiring] = importlib.import_module(module).wire
        return wiring(context)

    return wire


def subscribe(projection: Projection, *topics: str) -> Subscription:
    """The subscription that keeps ``projection`` up to date from ``topics``.

    A ``BatchProjection`` gets each fetched batch's new events in one ``handle_batch`` call."""
    batch = projection.handle_batch if isinstance(projection, BatchProjection) else None
    return Subscription(
        name=projection.name,
        topics=topics,
        handler=projection.handle,
        event_types=projection.event_types,
        batch_handler=batch,
    )


ENTRY_POINT_GROUP = "naervaer.services"
SERVICE_ORDER = ("case", "deadline", "notification", "document")


def discover_services() -> dict[str, ServiceSpec]:
    """All installed services by key, in the order they start."""
    specs: dict[str, ServiceSpec] = {}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        spec = entry.load()
        if not isinstance(spec, ServiceSpec):
            raise TypeError(f"entry point {entry.name} is not a ServiceSpec")
        specs[spec.key] = spec
    order = {key: i for i, key in enumerate(SERVICE_ORDER)}
    return dict(sorted(specs.items(), key=lambda kv: order.get(kv[0], len(order))))


def producers_of(topic: str, specs: dict[str, ServiceSpec]) -> list[ServiceSpec]:
    """The services whose event stores are the source of ``topic`` (without prefix)."""
    producers = [spec for spec in specs.values() if topic in spec.publishes]
    if not producers:
        raise LookupError(f"no service publishes {topic!r}")
    return producers


def producer_of(topic: str, specs: dict[str, ServiceSpec]) -> ServiceSpec:
    """The one service that publishes ``topic`` (without prefix)."""
    producers = producers_of(topic, specs)
    if len(producers) > 1:
        names = ", ".join(spec.name for spec in producers)
        raise LookupError(f"{topic!r} has several producers ({names}); expected one")
    return producers[0]
