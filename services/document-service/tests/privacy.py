"""A case whose events come sealed (as the case service appends them), told with unique personal
values, so a test can search every table for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from naervaer.contracts import CONTRACTS
from naervaer.envelope import Envelope
from naervaer.privacy.sealer import Sealer

from .harness import DocumentApi
from .story import CaseStory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@dataclass
class PrivateCase:
    """One case with unique markers in every personal field this service sees."""

    api: DocumentApi
    mark: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def __post_init__(self) -> None:
        self.story = CaseStory(
            tenant=f"t-{self.mark}", employee_id=f"emp-{self.mark}", manager_id=f"mgr-{self.mark}"
        )

    @property
    def tenant(self) -> str:
        return self.story.tenant

    @property
    def employee(self) -> str:
        return self.story.employee_id

    @property
    def manager(self) -> str:
        return self.story.manager_id

    @property
    def markers(self) -> list[str]:
        """Every personal value that must not be readable anywhere after erasure."""
        return [
            self.employee,
            self.manager,
            f"Comment {self.mark}",
            f"scan-{self.mark}",
            f"Workday {self.mark}",
            f"Minutes {self.mark}",
        ]

    async def sealed(self, envelope: Envelope) -> Envelope:
        """The envelope as the case service appends it: personal fields sealed."""
        payload = CONTRACTS.payload(envelope)
        sealer = Sealer(self.api.runtime.vault)
        (data,) = await sealer.for_employee(self.tenant, self.employee, [payload])
        return envelope.model_copy(update={"data": data})

    async def tell(self) -> list[Envelope]:
        """Opened, plan, meeting; the employee signs the plan, the manager refuses the minutes
        with a comment and attaches a file; the employee reads the case's documents."""
        story = self.story
        told = (story.opened(), story.plan(typical_workday=f"Workday {self.mark}"))
        meeting = story.meeting_held().model_copy(update={"data": _minutes(story, self.mark)})
        events = [await self.sealed(e) for e in (*told, meeting)]
        await self.api.feed(*events)
        plan, minutes = await self._documents("follow_up_plan", "dialogue_meeting_minutes")
        await self._decide(plan, "signatures", {"document_hash": _hash(plan)}, self.employee)
        comment = {"comment": f"Comment {self.mark}"}
        await self._decide(minutes, "refusals", comment, self.manager, role="manager")
        await self._attach(plan)
        return events

    async def erasure(self, key_id: str, recorded: str = "2030-01-02T03:00:00") -> Envelope:
        """``employee.personal_data_erased`` on the employee's own stream, as the case service
        publishes it (its stream id names the employee)."""
        stream = f"employee:{self.tenant}:{self.employee}"
        return Envelope(
            id=uuid.uuid4(),
            source="/case-service",
            type="employee.personal_data_erased",
            subject=stream,
            time=datetime.fromisoformat(recorded).replace(tzinfo=UTC),
            dataschema="urn:naervaer:schema:employee.personal_data_erased:v1",
            data={
                "key_id": key_id,
                "case_ids": [self.story.case_id],
                "erased_on": recorded[:10],
                "basis": "retention_expired",
                "retention_months": 36,
                "last_closed_on": "2026-06-01",
            },
            tenant=self.tenant,
            streamid=stream,
            streamversion=9,
        )

    async def _documents(self, *kinds: str) -> list[dict[str, Any]]:
        response = await self.api.get(
            f"/v1/cases/{self.story.case_id}/documents", tenant=self.tenant
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return [next(d for d in found if d["kind"] == kind) for kind in kinds]

    async def _decide(
        self,
        document: dict[str, Any],
        what: str,
        body: dict[str, Any],
        sub: str,
        role: str = "employee",
    ) -> None:
        path = f"/v1/documents/{document['document_id']}/versions/1/{what}"
        response = await self.api.post(path, body, role=role, sub=sub, tenant=self.tenant)
        assert response.status_code == 201, response.text

    async def _attach(self, document: dict[str, Any]) -> None:
        path = f"/v1/cases/{self.story.case_id}/documents/{document['document_id']}/attachments"
        response = await self.api.client.post(
            path,
            files={"file": (f"scan-{self.mark}.png", PNG, "image/png")},
            headers=self.api.auth("manager", self.manager, self.tenant),
        )
        assert response.status_code == 201, response.text


def _minutes(story: CaseStory, mark: str) -> dict[str, Any]:
    return {
        "case_id": story.case_id,
        "meeting_id": "m-1",
        "meeting_number": 1,
        "held_on": "2026-02-20",
        "participants": [
            {"party": "employee", "party_id": story.employee_id},
            {"party": "manager", "party_id": story.manager_id},
        ],
        "minutes": f"Minutes {mark}",
    }


def _hash(document: dict[str, Any]) -> str:
    digest: str = document["versions"][0]["document_hash"]
    return digest
