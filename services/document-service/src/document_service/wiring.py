"""The document service's application, wired when it starts (its spec: ``bootstrap``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import structlog
from fastapi import FastAPI

from document_service.adapters.audit_log import AuditLog
from document_service.adapters.parties import CasePartiesProjection
from document_service.adapters.pdf import render_dossier_pdf
from document_service.adapters.signing_keys import (
    DEFAULT_KEY_FILE,
    AuditSigner,
    KeyRegistry,
    SigningKeyError,
    ensure_key_file,
    load_signer,
)
from document_service.api import problems
from document_service.api.routes_audit import router as audit_router
from document_service.api.routes_documents import router as documents_router
from document_service.api.routes_privacy import router as privacy_router
from document_service.api.uploads import FORM_OVERHEAD
from document_service.app.access import AuditedAccess
from document_service.app.attachments import Attachments
from document_service.app.dossier import Dossiers
from document_service.app.publishing import DocumentEvents
from document_service.app.recording import Recorder
from document_service.app.sealing import CaseKeys
from document_service.app.services import DocumentServices
from document_service.app.signing import Signing
from document_service.config import DocumentServiceSettings
from naervaer.http.app import set_max_body_bytes
from naervaer.http.middleware import DEFAULT_MAX_BODY_BYTES
from naervaer.messaging import Subscription
from naervaer.service import ServiceContext, ServiceSpec, Wiring, discover_services, producers_of
from naervaer.settings import PlatformSettings
from naervaer.topics import ACCESS_EVENTS

log = structlog.get_logger(__name__)


def wire(context: ServiceContext) -> Wiring:
    assert context.store is not None
    settings = context.settings
    assert isinstance(settings, DocumentServiceSettings)
    signer = _signer(context, settings)
    audit = AuditLog(signer, KeyRegistry(signer))
    keys = CaseKeys(context.vault)
    events = DocumentEvents(context.store, keys)
    recorder = Recorder(audit, events, keys)
    services = DocumentServices(
        engine=context.engine,
        audit=audit,
        signer=signer,
        signing=Signing(context.engine, audit, events, context.clock.now),
        attachments=Attachments(context.engine, audit, events, settings.max_attachment_bytes),
        dossiers=Dossiers(
            context.engine, audit, signer, context.clock.now, render_dossier_pdf, context.vault
        ),
        keys=keys,
        clock=context.clock.now,
    )
    return Wiring(
        routers=[documents_router, audit_router, privacy_router],
        subscriptions=_subscriptions(context, settings, recorder),
        projections=[CasePartiesProjection()],
        state={"documents": services},
        install=[problems.install, _audit_access(services), _upload_limit(settings)],
    )


def _signer(context: ServiceContext, settings: DocumentServiceSettings) -> AuditSigner:
    if settings.signing_key_file is not None:
        return load_signer(settings.signing_key_file)
    if context.platform.environment == "production":
        raise SigningKeyError(
            "no audit signing key in production: set NAERVAER_DOCUMENT_SIGNING_KEY_FILE"
        )
    return load_signer(ensure_key_file(context.platform.data_dir / DEFAULT_KEY_FILE))


def _subscriptions(
    context: ServiceContext, settings: DocumentServiceSettings, recorder: Recorder
) -> list[Subscription]:
    subscriptions = [
        Subscription(
            name="document-service.case-events",
            topics=(context.topic("case-events"),),
            handler=recorder.case_event,
        )
    ]
    if records_access_events(context.platform, settings, discover_services()):
        subscriptions.append(
            Subscription(
                name="document-service.access-events",
                topics=(context.topic(ACCESS_EVENTS),),
                handler=recorder.access_record,
                event_types=frozenset({"access.recorded"}),
            )
        )
    return subscriptions


def records_access_events(
    platform: PlatformSettings,
    settings: DocumentServiceSettings,
    specs: Mapping[str, ServiceSpec],
) -> bool:
    """Subscribe to access-events only where the runtime can deliver them.

    The embedded transport reads the producing service's log, so it needs an installed service
    that publishes the topic; on Kafka, ``on`` also trusts producers outside this installation.
    """
    if settings.access_events == "off":
        return False
    if settings.access_events == "on" and not platform.embedded:
        return True
    try:
        producers_of(ACCESS_EVENTS, dict(specs))
    except LookupError:
        log.info("no service publishes access-events: only this service's reads are audited")
        return False
    return True


def _upload_limit(settings: DocumentServiceSettings) -> Callable[[FastAPI], None]:
    """Attachments (and the form around them) may be larger than the platform's body limit.

    Found by tests/hostile: with the default 1 MiB, no attachment over 1 MiB got through.
    """
    limit = max(DEFAULT_MAX_BODY_BYTES, settings.max_attachment_bytes + FORM_OVERHEAD)

    def install(app: FastAPI) -> None:
        set_max_body_bytes(app, limit)

    return install


def _audit_access(services: DocumentServices) -> Callable[[FastAPI], None]:
    def install(app: FastAPI) -> None:
        # This service's own reads and writes are sealed as they happen, then handed on.
        forward = getattr(app.state, "access_recorder", None)
        app.state.access_recorder = AuditedAccess(
            services.engine, services.audit, services.keys, forward
        )

    return install
