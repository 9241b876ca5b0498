"""The document service hosted in-process (SQLite or PostgreSQL), fed case events through its
real consumer (inbox included), called over HTTP with dev tokens."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from document_service.app.services import DocumentServices
from document_service.bootstrap import SERVICE
from naervaer.auth.devkeys import mint_token
from naervaer.envelope import Envelope
from naervaer.hosting import migrate_services
from naervaer.messaging import (
    Consumer,
    IncomingMessage,
    LocalDeadLetterSink,
    Outcome,
)
from naervaer.runtime import ServiceRuntime
from naervaer.settings import PlatformSettings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE_EVENTS = "document-service.case-events"


@dataclass
class FixedClock:
    moment: datetime = NOW

    def now(self) -> datetime:
        return self.moment


class NullSource:
    """A message source that is never polled: the tests hand messages to ``process``."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def fetch(self, max_messages: int, timeout_s: float) -> list[IncomingMessage]:
        return []

    async def before_commit(self, tx: AsyncConnection, message: IncomingMessage) -> None: ...

    async def acknowledge(self, message: IncomingMessage) -> None: ...

    async def lag(self) -> dict[tuple[str, int], int]:
        return {}


@dataclass
class DocumentApi:
    client: httpx.AsyncClient
    runtime: ServiceRuntime
    data_dir: Path
    offset: int = 0
    _tokens: dict[tuple[str, str, str], str] = field(default_factory=dict)

    @property
    def services(self) -> DocumentServices:
        services: DocumentServices = self.runtime.app.state.documents
        return services

    def auth(self, role: str = "hr", sub: str = "hr-1", tenant: str = "acme") -> dict[str, str]:
        key = (role, sub, tenant)
        if key not in self._tokens:
            self._tokens[key] = mint_token(self.data_dir, tenant=tenant, roles=[role], sub=sub)
        return {"Authorization": f"Bearer {self._tokens[key]}"}

    async def feed(self, *envelopes: Envelope, subscription: str = CASE_EVENTS) -> list[Outcome]:
        """Deliver events as the consumer would: one transaction each, with the inbox row."""
        chosen = next(s for s in self.runtime.wiring.subscriptions if s.name == subscription)
        consumer = Consumer(
            chosen,
            self.runtime.engine,
            self.runtime.consumer_tables,
            NullSource(),
            LocalDeadLetterSink(self.runtime.engine, self.runtime.consumer_tables),
            service=SERVICE.name,
            max_attempts=1,
            keys=self.runtime.vault,  # opens sealed case events, as the runtime's consumers do
        )
        outcomes = []
        for envelope in envelopes:
            self.offset += 1
            message = IncomingMessage(
                chosen.topics[0],
                0,
                self.offset,
                envelope.streamid.encode(),
                envelope.to_json_bytes(),
            )
            outcomes.append(await consumer.process(message))
        return outcomes

    async def get(
        self, path: str, role: str = "hr", sub: str = "hr-1", tenant: str = "acme"
    ) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(role, sub, tenant))

    async def post(
        self,
        path: str,
        body: dict[str, Any],
        role: str = "hr",
        sub: str = "hr-1",
        tenant: str = "acme",
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(role, sub, tenant))

    async def documents(self, case_id: str) -> list[dict[str, Any]]:
        response = await self.get(f"/v1/cases/{case_id}/documents")
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found

    async def document_of(self, case_id: str, kind: str) -> dict[str, Any]:
        return next(d for d in await self.documents(case_id) if d["kind"] == kind)

    async def dossier(self, case_id: str, role: str = "hr", sub: str = "hr-1") -> bytes:
        response = await self.get(f"/v1/cases/{case_id}/dossier", role=role, sub=sub)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/zip"
        return response.content


def zip_files(archive: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for name, data in files.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


@asynccontextmanager
async def hosted_document_service(
    data_dir: Path, *, database_url: str | None = None
) -> AsyncIterator[DocumentApi]:
    """The service's app (no background tasks: the tests feed its consumer themselves)."""
    platform = PlatformSettings(data_dir=data_dir, database_url=database_url)
    await migrate_services(platform, [SERVICE])
    runtime = ServiceRuntime(SERVICE, platform, {SERVICE.key: SERVICE}, clock=FixedClock())
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=runtime.app), base_url="http://document.test"
        ) as client:
            yield DocumentApi(client, runtime, data_dir)
    finally:
        await runtime.engine.dispose()
