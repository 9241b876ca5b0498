"""What the service holds about one employee (innsyn, GDPR art. 15), read for the export.

Their cases as this service knows them (nearest manager, org unit, dialogue meetings), every
message about those cases (to whom by role, through what, when, and the subject line it
carried), the messages sent to them outside a case (test messages) and their address book
entry. Messages they received about someone else's case (as a manager) are that other
person's data and are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from notification_service.adapters import directory
from notification_service.adapters.projections import cases_of
from notification_service.adapters.tables import case_parties, deliveries, meetings
from notification_service.domain.recipients import Recipient


@dataclass(frozen=True)
class HeldMeeting:
    meeting_id: str
    meeting_number: int
    starts_at: datetime
    status: str
    participants: list[str]  # roles only: the other participants' ids are theirs


@dataclass(frozen=True)
class HeldCase:
    case_id: str
    manager_id: str
    org_unit: str | None
    meetings: list[HeldMeeting]


@dataclass(frozen=True)
class HeldDelivery:
    id: UUID
    case_id: str | None
    channel: str
    recipient_role: str
    stage: str
    template: str
    status: str
    created_at: datetime
    send_after: datetime
    sent_at: datetime | None
    subject: str | None


@dataclass(frozen=True)
class Held:
    cases: list[HeldCase]
    deliveries: list[HeldDelivery]
    recipient: Recipient | None


async def held_about(tx: AsyncConnection, tenant: str, employee_id: str) -> Held:
    """Everything the service holds about ``employee_id`` of ``tenant``."""
    case_ids = await cases_of(tx, tenant, employee_id)
    return Held(
        cases=await _cases(tx, tenant, case_ids),
        deliveries=await _deliveries(tx, tenant, employee_id, case_ids),
        recipient=await directory.get_recipient(tx, tenant, employee_id),
    )


async def _cases(tx: AsyncConnection, tenant: str, case_ids: list[str]) -> list[HeldCase]:
    rows = await tx.execute(
        select(case_parties)
        .where(case_parties.c.case_id.in_(case_ids))  # the tenant's: ``cases_of``
        .order_by(case_parties.c.case_id)
    )
    found = await _meetings(tx, tenant, case_ids)
    return [
        HeldCase(row.case_id, row.manager_id, row.org_unit, found.get(row.case_id, []))
        for row in rows
    ]


async def _meetings(
    tx: AsyncConnection, tenant: str, case_ids: list[str]
) -> dict[str, list[HeldMeeting]]:
    rows = await tx.execute(
        select(meetings)
        .where(meetings.c.tenant == tenant, meetings.c.case_id.in_(case_ids))
        .order_by(meetings.c.meeting_number, meetings.c.meeting_id)
    )
    by_case: dict[str, list[HeldMeeting]] = {}
    for row in rows:
        roles = [str(p["party"]) for p in row.participants]
        meeting = HeldMeeting(row.meeting_id, row.meeting_number, row.starts_at, row.status, roles)
        by_case.setdefault(row.case_id, []).append(meeting)
    return by_case


async def _deliveries(
    tx: AsyncConnection, tenant: str, employee_id: str, case_ids: list[str]
) -> list[HeldDelivery]:
    to_them = and_(deliveries.c.recipient_id == employee_id, deliveries.c.case_id.is_(None))
    rows = await tx.execute(
        select(deliveries)
        .where(deliveries.c.tenant == tenant, or_(deliveries.c.case_id.in_(case_ids), to_them))
        .order_by(deliveries.c.created_at, deliveries.c.id)
    )
    return [
        HeldDelivery(
            id=row.id,
            case_id=row.case_id,
            channel=row.channel,
            recipient_role=row.audience,
            stage=row.stage,
            template=row.template,
            status=row.status,
            created_at=row.created_at,
            send_after=row.send_after,
            sent_at=row.sent_at,
            subject=row.rendered_subject,
        )
        for row in rows
    ]
