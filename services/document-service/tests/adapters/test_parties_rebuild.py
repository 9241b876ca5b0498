"""``naervaer rebuild document`` rebuilds the case parties (and only them) from the case log."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from document_service.adapters.parties import CasePartiesProjection, case_record
from document_service.adapters.tables import audit_entries
from naervaer.envelope import Envelope
from naervaer.messaging import rebuild

from ..harness import hosted_document_service
from ..story import CaseStory


class CaseLog:
    """The case service's log as the rebuild reads it (by global position)."""

    def __init__(self, envelopes: list[Envelope]) -> None:
        self.envelopes = [
            e.model_copy(update={"globalposition": i}) for i, e in enumerate(envelopes, start=1)
        ]

    async def head_position(self) -> int:
        return len(self.envelopes)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[Envelope]:
        return self.envelopes[after_position : after_position + limit]


async def test_rebuilding_the_parties_keeps_the_record(tmp_path: Path) -> None:
    story = CaseStory()
    events = [story.opened(), story.plan(), story.manager_reassigned("mgr-2")]
    async with hosted_document_service(tmp_path) as api:
        await api.feed(*events)
        async with api.runtime.engine.connect() as conn:
            before = (await conn.execute(select(audit_entries.c.entry_hash))).scalars().all()
        projection = CasePartiesProjection()
        applied = await rebuild(
            projection, api.runtime.engine, api.runtime.consumer_tables, CaseLog(events)
        )
        assert applied == 2  # opened and manager_reassigned; the plan is not a party event
        async with api.runtime.engine.connect() as conn:
            case = await case_record(conn, story.case_id)
            after = (await conn.execute(select(audit_entries.c.entry_hash))).scalars().all()
        assert case is not None
        assert (case.employee_id, case.manager_id) == ("emp-1", "mgr-2")
        assert after == before  # the audit trail is never reset
