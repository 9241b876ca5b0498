"""The notification service's application, wired when it starts (its spec: ``bootstrap``).

Two subscriptions decide what to send: case events (parties, dialogue meetings) and deadline
events (reminders); one background task, the delivery worker, sends it.
"""

from __future__ import annotations

import time

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.clock import Clock
from naervaer.messaging import Subscription
from naervaer.privacy import KeySource
from naervaer.service import (
    ServiceContext,
    Wiring,
    discover_services,
    producer_of,
)
from notification_service.adapters.channels.base import Sender
from notification_service.adapters.channels.email import EmailSender
from notification_service.adapters.channels.sms import HttpJsonSmsProvider, SmsSender
from notification_service.adapters.channels.webhook import WebhookSender
from notification_service.adapters.projections import CASE_EVENT_TYPES, CaseProjection
from notification_service.adapters.rendering import Renderer
from notification_service.api import (
    routes_deliveries,
    routes_privacy,
    routes_settings,
    routes_templates,
)
from notification_service.api.deps import Notifications
from notification_service.app.compose import Composer
from notification_service.app.planner import DEADLINE_EVENT_TYPES, Planner
from notification_service.app.worker import DeliveryWorker, WorkerTiming
from notification_service.config import NotificationServiceSettings
from notification_service.domain.retry import RetryPolicy

log = structlog.get_logger(__name__)
DEADLINE_TOPIC = "deadline-events"


def wire(context: ServiceContext) -> Wiring:
    settings = context.settings
    assert isinstance(settings, NotificationServiceSettings)
    projection = CaseProjection()
    planner = Planner(context.clock, projection)
    renderer = Renderer()
    worker = delivery_worker(context.engine, context.clock, settings, renderer, context.vault)
    return Wiring(
        routers=[
            routes_deliveries.router,
            routes_settings.router,
            routes_templates.router,
            routes_privacy.router,
        ],
        subscriptions=subscriptions(context, projection, planner),
        projections=[projection],
        state={"notifications": Notifications(context.engine, context.clock, renderer)},
        background={"delivery-worker": worker.run},
    )


def subscriptions(
    context: ServiceContext, projection: CaseProjection, planner: Planner
) -> list[Subscription]:
    """Case events always; deadline events when some service publishes them."""
    found = [
        Subscription(
            name=projection.name,
            topics=(context.topic("case-events"),),
            handler=planner.on_case_event,
            event_types=CASE_EVENT_TYPES,
        )
    ]
    if deadline_producer_known(context):
        found.append(
            Subscription(
                name="notification-service.deadline-reminders",
                topics=(context.topic(DEADLINE_TOPIC),),
                handler=planner.on_deadline_event,
                event_types=DEADLINE_EVENT_TYPES,
            )
        )
    return found


def deadline_producer_known(context: ServiceContext) -> bool:
    """The embedded transport reads the producer's own log, so it needs to know who that is;
    Kafka needs only the topic. Without a producer we start anyway, just without reminders."""
    if not context.platform.embedded:
        return True
    try:
        producer_of(DEADLINE_TOPIC, discover_services())
    except LookupError:
        log.warning("no service publishes deadline-events; reminders are off", topic=DEADLINE_TOPIC)
        return False
    return True


def delivery_worker(
    engine: AsyncEngine,
    clock: Clock,
    settings: NotificationServiceSettings,
    renderer: Renderer,
    keys: KeySource,
) -> DeliveryWorker:
    """The worker with its channels, as the settings configure them; ``keys`` (the key vault)
    tells it which cases were erased, so it sends nothing about them."""
    client = httpx.AsyncClient(timeout=settings.http_timeout_s, follow_redirects=False)
    sms = None
    if settings.sms_url:
        token = settings.sms_token.get_secret_value() if settings.sms_token else None
        sms = HttpJsonSmsProvider(client, settings.sms_url, sender=settings.sms_sender, token=token)
    senders: dict[str, Sender] = {
        "email": EmailSender(settings),
        # Real time, not the (dev-movable) service clock: receivers check it against theirs.
        "webhook": WebhookSender(client, time.time),
        "sms": SmsSender(sms),
    }
    return DeliveryWorker(
        engine,
        clock,
        Composer(engine, renderer),
        senders,
        RetryPolicy(settings.retry_base_s, settings.retry_cap_s, settings.max_attempts),
        WorkerTiming(settings.worker_poll_interval_s, settings.worker_lease_s),
        keys=keys,
        closers=[client.aclose],
    )
