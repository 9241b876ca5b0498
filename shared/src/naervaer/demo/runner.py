"""Telling the story: move the dev clock, make each scene's requests, wait, show what changed.

After every move of the clock and every scene the demo waits until the services have settled:
for a while no event store has recorded a fact and no mail has arrived, and no delivery that is
due is still unsent. Only then does it show what happened, so each reminder appears in the
scene that caused it. Reads are kept few: each one is an access record in the audit trail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from naervaer.clock import ControlledClock
from naervaer.demo.hosting import DemoError, Hosted
from naervaer.demo.mailbox import Mailbox
from naervaer.demo.show import Show
from naervaer.demo.story import HR, Call, Cast, Scene, Sign

QUIET_S = 0.5  # ten polls of the consumers, the scheduler and the delivery worker (0.05 s)
SETTLE_TIMEOUT_S = 30.0
POLL_S = 0.05
READ_POLL_S = 0.2  # polling over REST (each read is an access record)
WAITING = ("pending", "sending")


class Story:
    """One run of the story against the hosted services."""

    def __init__(self, hosted: Hosted, mailbox: Mailbox, show: Show, cast: Cast) -> None:
        self.hosted = hosted
        self.mailbox = mailbox
        self.show = show
        self.cast = cast
        self.clock = ControlledClock(hosted.data_dir / "clock.json")
        self.case_id: str | None = None
        self._timeline: list[dict[str, Any]] = []
        self._mails_shown = 0

    async def play(self, scene: Scene) -> None:
        self.show.scene(scene.title, scene.moment, scene.note)
        # The deadline service's dev clock endpoint also wakes its scheduler at once.
        clock = {"now": scene.moment.isoformat()}
        await self.hosted.call(HR, "deadline", "PUT", "/v1/dev/clock", clock)
        await self.report()  # what the night brought: reminders due by this morning
        for step in scene.steps:
            if isinstance(step, Call):
                await self.call(step)
            else:
                await self.sign(step)
        await self.report()

    async def call(self, call: Call) -> None:
        path = call.path.format(case=self.case_id)
        result = await self.hosted.call(call.actor, call.service, call.method, path, call.body)
        if path == "/v1/cases":
            self.case_id = result["case_id"]
        version = result.get("version") if isinstance(result, dict) else None
        outcome = f"{call.method} {path.replace(str(self.case_id), '…')}"
        self.show.action(
            call.actor.name, call.says, outcome + (f" → v{version}" if version else "")
        )

    async def sign(self, sign: Sign) -> None:
        """Both parties read the document's latest version and sign exactly that hash."""
        document = await self._document(sign.kind)
        version = document["versions"][-1]
        path = f"/v1/documents/{document['document_id']}/versions/{version['version']}/signatures"
        body = {"document_hash": version["document_hash"]}
        for signer in (self.cast.employee, self.cast.manager):
            await self.hosted.call(signer, "document", "POST", path, body)
        outcome = f"POST {path.replace(document['document_id'], '…')} (each)"
        who = f"{self.cast.employee.name} and {self.cast.manager.name}"
        self.show.action(who, sign.says, outcome)

    async def report(self) -> None:
        """Wait until nothing moves, then show the new emails and the timeline's changes."""
        await self.settle()
        mails = self.mailbox.mails[self._mails_shown :]
        self._mails_shown += len(mails)
        self.show.mails(mails)
        timeline = await self.timeline()
        self.show.timeline_changes(self._timeline, timeline)
        self._timeline = timeline

    async def settle(self) -> None:
        """Until no store records a fact and no mail arrives for QUIET_S, and no delivery that
        is due still waits (checked over REST only then: every read is an access record)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            state = (await self.hosted.facts(), len(self.mailbox.mails))
            now = time.monotonic()
            if state != last:
                last, since = state, now
            elif now - since >= QUIET_S:
                if not await self._delivery_due():
                    return
                since = now
            await asyncio.sleep(POLL_S)
        raise DemoError(f"the services did not settle within {SETTLE_TIMEOUT_S:.0f} s")

    async def _delivery_due(self) -> bool:
        now = self.clock.now()
        return any(
            d["status"] in WAITING and datetime.fromisoformat(d["send_after"]) <= now
            for d in await self.deliveries()
        )

    async def timeline(self) -> list[dict[str, Any]]:
        found = await self._read("deadline", "/v1/cases/{case}/timeline")
        return list(found["obligations"]) if found else []

    async def deliveries(self) -> list[dict[str, Any]]:
        found = await self._read("notification", "/v1/cases/{case}/deliveries")
        return list(found["deliveries"]) if found else []

    async def audit(self) -> dict[str, Any]:
        verdict: dict[str, Any] = await self.hosted.call(HR, "document", "GET", "/v1/audit/verify")
        return verdict

    async def _read(self, service: str, path: str) -> Any:
        """A read of the case (decoded JSON); None while the service has not heard of it (404)."""
        if self.case_id is None:
            return None
        response = await self.hosted.send(HR, service, "GET", path.format(case=self.case_id))
        if response.status_code == 404:
            return None
        if response.is_error:
            raise DemoError(f"GET {path} answered {response.status_code}")
        return response.json()

    async def _document(self, kind: str) -> dict[str, Any]:
        """The case's document of ``kind``, once the document service has made it."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while time.monotonic() < deadline:
            documents: Sequence[dict[str, Any]] = (
                await self._read("document", "/v1/cases/{case}/documents") or []
            )
            for document in documents:
                if document["kind"] == kind:
                    return dict(document)
            await asyncio.sleep(READ_POLL_S)
        raise DemoError(f"the document service made no {kind} document")
