"""The document service's use cases, built once per app and shared by its routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from document_service.adapters.audit_log import AuditLog
from document_service.adapters.signing_keys import AuditSigner
from document_service.app.attachments import Attachments
from document_service.app.dossier import Dossiers
from document_service.app.sealing import CaseKeys
from document_service.app.signing import Signing


@dataclass(frozen=True)
class DocumentServices:
    engine: AsyncEngine
    audit: AuditLog
    signer: AuditSigner
    signing: Signing
    attachments: Attachments
    dossiers: Dossiers
    keys: CaseKeys
    clock: Callable[[], datetime]
