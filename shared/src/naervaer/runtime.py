"""Hosts one service: its engine, event store, outbox relay, consumers and HTTP app.

The same runtime serves a real deployment (one service per process, PostgreSQL + Kafka) and the
embedded default (four runtimes in one process, SQLite files, consumers reading the producing
service's log by position instead of Kafka).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.access_records import StoreAccessRecorder
from naervaer.auth.access import AccessRecorder, log_access
from naervaer.auth.settings import AuthSettings
from naervaer.auth.verify import TokenVerifier
from naervaer.clock import Clock, ControlledClock, SystemClock
from naervaer.db import create_engine
from naervaer.eventstore import EventStore
from naervaer.http.app import create_service_app
from naervaer.http.health import Readiness
from naervaer.messaging import (
    Consumer,
    ConsumerTables,
    DeadLetterSink,
    EmbeddedLogSource,
    EventLog,
    KafkaDeadLetterSink,
    KafkaSource,
    LocalDeadLetterSink,
    MessageSource,
    Subscription,
)
from naervaer.messaging.dev_crash import crash_before_ack
from naervaer.migrations import target_for
from naervaer.observability.tracing import build_tracer_provider, instrument_engine
from naervaer.outbox import KafkaPublisher, OutboxRelay, Publisher
from naervaer.privacy.vault_setup import open_vault
from naervaer.service import ServiceContext, ServiceSpec, Wiring, producers_of
from naervaer.settings import PlatformSettings
from naervaer.topics import ACCESS_EVENTS, ACCESS_STREAM_TYPE, TopicLog, ensure_topics

log = structlog.get_logger("naervaer.runtime")


def platform_clock(platform: PlatformSettings) -> Clock:
    """The dev clock control on development setups; the plain system clock in production."""
    if platform.environment == "production":
        return SystemClock()
    return ControlledClock(platform.data_dir / "clock.json")


class ServiceRuntime:
    """One service, ready to be served by uvicorn (``runtime.app``)."""

    def __init__(
        self,
        spec: ServiceSpec,
        platform: PlatformSettings,
        all_specs: dict[str, ServiceSpec],
        *,
        tracer_provider: TracerProvider | None = None,
        clock: Clock | None = None,
        database_settings: Mapping[str, str] | None = None,
    ) -> None:
        """``database_settings``: PostgreSQL settings the service's connections start with
        (``naervaer.db.create_engine``)."""
        self.spec = spec
        self.platform = platform
        self.all_specs = all_specs
        self.settings = spec.settings_cls()
        self.port = self.settings.port or spec.default_port
        self.target = target_for(spec, platform)
        self.tracer_provider = tracer_provider or build_tracer_provider(spec.name)
        self.clock = clock or platform_clock(platform)
        self.engine = create_engine(
            self.target,
            settings=database_settings,
            pool_size=platform.db_pool_size,
            max_overflow=platform.db_max_overflow,
        )
        instrument_engine(self.engine, self.tracer_provider)
        self.store = self._event_store()
        self.vault = open_vault(platform)
        self.context = ServiceContext(
            spec=spec,
            platform=platform,
            settings=self.settings,
            target=self.target,
            engine=self.engine,
            tracer_provider=self.tracer_provider,
            clock=self.clock,
            store=self.store,
            vault=self.vault,
        )
        self.wiring: Wiring = spec.wire(self.context)
        self.readiness = Readiness()
        self.readiness.add("database", self._database_ready)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._producer_stores: dict[str, EventStore] = {}
        self.app = self._build_app()

    def _event_store(self) -> EventStore | None:
        if self.spec.event_store is None:
            return None
        outbox_topic = None
        if not self.platform.embedded and self.spec.publishes:
            outbox_topic = self.topic(self.spec.publishes[0])
        routes = {}
        if ACCESS_EVENTS in self.spec.publishes:
            routes[ACCESS_STREAM_TYPE] = self.topic(ACCESS_EVENTS)
        return EventStore(
            self.engine,
            self.spec.event_store,
            source=f"/{self.spec.name}",
            outbox_topic=outbox_topic,
            outbox_row_per_append=self.platform.outbox_row_per_append,
            topic_by_stream_type=routes,
            clock=self.clock.now,
            tracer=self.tracer_provider.get_tracer("naervaer.eventstore"),
            service=self.spec.name,
        )

    def _access_recorder(self) -> AccessRecorder:
        """Access records go out as events where the service publishes them, else to the log."""
        if self.store is not None and ACCESS_EVENTS in self.spec.publishes:
            return StoreAccessRecorder(self.store)
        return log_access

    def topic(self, name: str) -> str:
        """The full Kafka topic name of ``name`` (e.g. case-events)."""
        return f"{self.platform.topic_prefix}{name}"

    def _build_app(self) -> FastAPI:
        app = create_service_app(
            service=self.spec.name,
            version="0.1.0",
            title=self.spec.title,
            description=self.spec.description,
            lifespan=self._lifespan,
            tracer_provider=self.tracer_provider,
            readiness=self.readiness,
        )
        app.state.runtime = self
        app.state.token_verifier = TokenVerifier.from_settings(AuthSettings(), self.platform)
        app.state.access_recorder = self._access_recorder()
        for router in self.wiring.routers:
            app.include_router(router)
        for name, value in self.wiring.state.items():
            setattr(app.state, name, value)
        for install in self.wiring.install:
            install(app)
        return app

    async def _database_ready(self) -> bool:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return True

    @asynccontextmanager
    async def _lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with AsyncExitStack() as stack:
            stack.push_async_callback(self.engine.dispose)
            stack.push_async_callback(self.vault.dispose)
            await self.vault.install()
            # Unwound in reverse: first the tasks stop, then what they used (publisher,
            # the producers' engines), then our own engine — so nothing reopens a connection.
            resources = await stack.enter_async_context(AsyncExitStack())
            stack.push_async_callback(self._stop_tasks, stop)
            await self._start_background(resources, stop)
            log.info(
                "service started",
                service=self.spec.name,
                port=self.port,
                embedded=self.platform.embedded,
            )
            yield

    def outbox_relay(self, publisher: Publisher) -> OutboxRelay | None:
        """The relay of the service's outbox, as the settings have it (None: it publishes no
        events of its own)."""
        if self.spec.event_store is None or not self.spec.publishes:
            return None
        return OutboxRelay(
            self.engine,
            self.spec.event_store,
            publisher,
            service=self.spec.name,
            batch_size=self.platform.outbox_batch_size,
            poll_interval_s=self.platform.outbox_poll_interval_s,
            linger_s=self.platform.outbox_linger_ms / 1000,
            tracer=self.tracer_provider.get_tracer("naervaer.outbox"),
        )

    async def _start_background(self, stack: AsyncExitStack, stop: asyncio.Event) -> None:
        self._producer_stores.clear()  # their engines are disposed with each lifespan's stack
        publisher: KafkaPublisher | None = None
        if not self.platform.embedded:
            assert self.platform.kafka_bootstrap is not None
            await ensure_topics(
                self.platform.kafka_bootstrap,
                self.topics(),
                partitions=self.platform.kafka_partitions,
                replication_factor=self.platform.kafka_replication_factor,
            )
            publisher = KafkaPublisher(self.platform.kafka_bootstrap, client_id=self.spec.name)
            await publisher.start()
            stack.push_async_callback(publisher.stop)
            if (relay := self.outbox_relay(publisher)) is not None:
                self._spawn("outbox-relay", relay.run(stop))
        for subscription in self.wiring.subscriptions:
            source = await self._source_for(subscription, stack)
            consumer = Consumer(
                subscription,
                self.engine,
                self.consumer_tables,
                source,
                self._dead_letter_sink(publisher),
                service=self.spec.name,
                batch_size=self.platform.consumer_batch_size,
                max_attempts=self.platform.consumer_max_attempts,
                retry_base_s=self.platform.consumer_retry_base_s,
                tracer=self.tracer_provider.get_tracer("naervaer.messaging"),
                crash_before_ack=crash_before_ack(subscription, self.platform.dev_crash_before_ack),
                keys=self.vault,
            )
            self._spawn(f"consumer {subscription.name}", consumer.run(stop))
        for name, work in self.wiring.background.items():
            self._spawn(name, work(stop))

    def topics(self) -> list[str]:
        """Every topic this service publishes or reads, with its dead-letter topics."""
        topics = {self.topic(name) for name in (*self.spec.publishes, *self.spec.consumes)}
        for subscription in self.wiring.subscriptions:
            topics.update(subscription.topics)
            topics.add(self.dead_letter_topic(subscription))
        return sorted(topics)

    def dead_letter_topic(self, subscription: Subscription) -> str:
        return f"{self.platform.topic_prefix}{subscription.name}.dlq"

    @property
    def consumer_tables(self) -> ConsumerTables:
        if self.spec.consumer_tables is None:
            raise RuntimeError(f"{self.spec.name} subscribes but declares no consumer tables")
        return self.spec.consumer_tables

    def _dead_letter_sink(self, publisher: KafkaPublisher | None) -> DeadLetterSink:
        if publisher is None:
            return LocalDeadLetterSink(self.engine, self.consumer_tables)
        return KafkaDeadLetterSink(
            publisher, self.platform.topic_prefix, self.engine, self.consumer_tables
        )

    async def _source_for(self, subscription: Subscription, stack: AsyncExitStack) -> MessageSource:
        if not self.platform.embedded:
            return KafkaSource.from_settings(self.platform, subscription)
        logs: dict[str, list[EventLog]] = {}
        for topic in subscription.topics:
            name = topic.removeprefix(self.platform.topic_prefix)
            logs[topic] = [
                TopicLog(await self._producer_store(producer, stack), name)
                for producer in producers_of(name, self.all_specs)
            ]
        return EmbeddedLogSource(
            logs,
            subscription,
            self.engine,
            self.consumer_tables,
            poll_interval_s=self.platform.consumer_poll_interval_s,
        )

    async def _producer_store(self, producer: ServiceSpec, stack: AsyncExitStack) -> EventStore:
        """Read access to the producing service's log: the embedded transport's 'broker'."""
        assert producer.event_store is not None
        if producer.name in self._producer_stores:
            return self._producer_stores[producer.name]
        engine: AsyncEngine = create_engine(target_for(producer, self.platform))
        stack.push_async_callback(engine.dispose)
        self._producer_stores[producer.name] = store = EventStore(
            engine,
            producer.event_store,
            source=f"/{producer.name}",
            outbox_topic=None,
            service=producer.name,
        )
        return store

    def _spawn(self, name: str, work: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work, name=f"{self.spec.name} {name}")  # type: ignore[arg-type]
        self._tasks[name] = task
        self.readiness.add(name, lambda: self._task_alive(task))

    @staticmethod
    async def _task_alive(task: asyncio.Task[None]) -> bool:
        return not task.done()

    async def _stop_tasks(self, stop: asyncio.Event) -> None:
        stop.set()
        for name, task in self._tasks.items():
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                log.warning("background task did not stop in time", task=name)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            except Exception:
                log.exception("background task failed", task=name)
        self.tracer_provider.force_flush()
        self.tracer_provider.shutdown()
