"""A case event counts for its own tenant's cases only. Case ids come from the case service
and never repeat across tenants; should an event of another tenant name one anyway (a
malformed or hostile producer), it must neither change, erase nor reveal the case, nor keep
the case's own tenant from being told and reminded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.contracts.case import CaseClosed, ManagerReassigned
from naervaer.contracts.employee import PersonalDataErased
from naervaer.contracts.followup import DialogueMeetingCancelled
from naervaer.envelope import Envelope
from notification_service.adapters.personal_data import held_about
from notification_service.adapters.tables import case_parties, erased_cases, meetings

from ..conftest import OSLO, Harness
from ..support import SmtpServer, envelope
from .test_erasure import meeting, two_cases

pytestmark = pytest.mark.integration


def foreign(event_type: str, payload: Any) -> Envelope:
    return envelope(event_type, payload, tenant="other", stream="case-1")


def events_of_another_tenant_naming_case_1() -> list[Envelope]:
    moved = meeting("case-1").model_copy(
        update={"starts_at": datetime(2026, 5, 5, 8, 0, tzinfo=UTC)}
    )
    erasure = PersonalDataErased(
        key_id="9" * 32, case_ids=["case-1"], erased_on=date(2029, 4, 1),
        basis="retention_expired", retention_months=36, last_closed_on=date(2026, 3, 31),
    )  # fmt: skip
    reassigned = ManagerReassigned(
        case_id="case-1", previous_manager_id="mgr-1", manager_id="mgr-x",
        effective_on=date(2026, 3, 1),
    )  # fmt: skip
    cancelled = DialogueMeetingCancelled(
        case_id="case-1", meeting_id="m-case-1", meeting_number=1, reason="moved"
    )
    closed = CaseClosed(case_id="case-1", closed_on=date(2026, 3, 2), reason="other")
    return [
        foreign("case.manager_reassigned", reassigned),
        foreign("case.dialogue_meeting_scheduled", moved),
        foreign("case.dialogue_meeting_cancelled", cancelled),
        foreign("case.closed", closed),  # would cancel the reminders not yet sent
        foreign("employee.personal_data_erased", erasure),
    ]


async def rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as tx:
        return {
            table.name: [tuple(row) for row in await tx.execute(select(table))]
            for table in (case_parties, meetings)
        }


async def test_another_tenants_events_naming_a_case_leave_it_alone(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    await two_cases(harness)  # acme's case-1 and case-2, each with a meeting; one reminder
    for party in ("emp-1", "mgr-1"):  # the same ids in the other tenant's address book
        await harness.recipient(party, tenant="other", email=f"{party}@other.example")
    before, told = await rows(harness.engine), await harness.deliveries()

    for event in events_of_another_tenant_naming_case_1():
        assert await harness.on_case(event)
        # nobody told (before the erasure, which would delete what was told in its tenant)
        assert await harness.deliveries() == told, event.type

    assert await rows(harness.engine) == before  # not reassigned, moved, cancelled or erased
    async with harness.engine.connect() as tx:
        tombstones = [tuple(row) for row in await tx.execute(select(erased_cases.c.tenant))]
    assert tombstones == [("other",)]
    # acme's own messages about case-1 still leave (the other tenant's tombstone drops none)
    harness.clock.set(datetime(2026, 3, 20, 8, 0, tzinfo=OSLO))
    assert await harness.drain() > 0
    assert any("ola@example.com" in message["To"] for message in smtp.messages)
    about_case_1 = [d.status for d in await harness.deliveries() if d.case_id == "case-1"]
    assert len(about_case_1) > 1  # the reminder and the meeting's invitations
    assert set(about_case_1) == {"sent"}


async def test_a_meeting_row_of_another_tenant_is_neither_exported_nor_planned_against(
    harness: Harness,
) -> None:
    """Rows written before meetings were kept to their tenant's cases: reads still filter."""
    await two_cases(harness)
    legacy = meeting("case-1").model_copy(update={"meeting_id": "m-legacy"})
    async with harness.engine.begin() as tx:
        await tx.execute(
            insert(meetings).values(
                case_id="case-1", meeting_id="m-legacy", tenant="other", meeting_number=1,
                starts_at=legacy.starts_at, participants=[], status="scheduled",
                updated_at=legacy.starts_at,
            )
        )  # fmt: skip
        held = await held_about(tx, "acme", "emp-1")
    (case_1,) = held.cases
    assert [m.meeting_id for m in case_1.meetings] == ["m-case-1"]

    scheduled = envelope("case.dialogue_meeting_scheduled", legacy, stream="case-1")
    assert await harness.on_case(scheduled)
    told = [d for d in await harness.deliveries() if d.source_event_id == scheduled.id]
    assert len(told) == 3  # the employee, the manager, the representative
    assert {d.stage for d in told} == {"invited"}  # a new meeting: not the other's, changed
