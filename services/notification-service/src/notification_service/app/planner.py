"""Turning events into deliveries, inside the consumer's transaction (with its inbox row).

Deadline events (deadline.approaching/due/overdue) become reminders; dialogue meetings
scheduled or cancelled become invitations, changes and cancellations. What is decided is
recorded as pending deliveries; the delivery worker sends them later. An event of an erased
case (its personal fields read ``[erased]``, or the case is tombstoned) decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.clock import Clock
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseClosed
from naervaer.contracts.deadline import DEADLINE_EVENTS, DeadlineNotice
from naervaer.contracts.followup import DialogueMeetingCancelled, DialogueMeetingScheduled
from naervaer.envelope import Envelope
from naervaer.privacy import sealing_key_id
from notification_service.adapters import deliveries, directory
from notification_service.adapters.projections import (
    CaseProjection,
    Meeting,
    forgotten,
    meeting_of,
    parties_of,
)
from notification_service.domain.planning import (
    MeetingParticipant,
    ObligationStage,
    Target,
    deadline_targets,
    meeting_targets,
    notices,
)
from notification_service.domain.policy import TenantPolicy
from notification_service.domain.timing import as_utc

log = structlog.get_logger(__name__)
DEADLINE_EVENT_TYPES = frozenset(DEADLINE_EVENTS)
MeetingEvent = DialogueMeetingScheduled | DialogueMeetingCancelled


@dataclass(frozen=True)
class News:
    """Something to tell: its case, what it is about (the dedup subject), stage and facts."""

    case_id: str
    subject_key: str
    stage: str
    facts: dict[str, Any]
    reminder: bool  # reminders are held over weekends and public holidays
    key_id: str | None  # the employee's key: once destroyed, the delivery is dropped unsent


class Planner:
    """The handlers of the service's two subscriptions."""

    def __init__(self, clock: Clock, projection: CaseProjection) -> None:
        self._clock = clock
        self._projection = projection

    async def on_case_event(self, tx: AsyncConnection, envelope: Envelope) -> None:
        """Meetings are planned against the state *before* the event, then it is projected."""
        event = CONTRACTS.payload(envelope)
        if await forgotten(tx, envelope.tenant, event):
            log.info("event of an erased case; nothing to tell", event_type=envelope.type)
            return
        if isinstance(event, MeetingEvent):
            await self._plan_meeting(tx, envelope, event)
        elif isinstance(event, CaseClosed):
            # Reminders still held back (quiet hours, a weekend) are moot once the case is
            # closed; an overdue escalation is not: a missed duty stays on the record.
            await deliveries.cancel_pending(
                tx,
                envelope.tenant,
                event.case_id,
                ("approaching", "due"),
                reason="the case was closed",
                now=self._clock.now(),
            )
        await self._projection.apply(tx, envelope, event)

    async def on_deadline_event(self, tx: AsyncConnection, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if not isinstance(event, DeadlineNotice) or await forgotten(tx, envelope.tenant, event):
            return
        obligation = _obligation(event, stage=envelope.type.removeprefix("deadline."))
        policy = await directory.get_policy(tx, envelope.tenant)
        news = News(
            obligation.case_id,
            obligation.subject_key,
            obligation.stage,
            obligation.facts,
            reminder=True,
            key_id=sealing_key_id(envelope.data)
            or await _case_key(tx, envelope.tenant, event.case_id),
        )
        await self._record(tx, envelope, policy, deadline_targets(policy, obligation), news)

    async def _plan_meeting(
        self, tx: AsyncConnection, envelope: Envelope, event: MeetingEvent
    ) -> None:
        parties = await parties_of(tx, envelope.tenant, event.case_id)
        if parties is None:
            log.warning("meeting of an unknown case; nobody to tell", case_id=event.case_id)
            return
        known = await meeting_of(tx, envelope.tenant, event.case_id, event.meeting_id)
        stage, participants, starts_at = _meeting_news(event, known)
        policy = await directory.get_policy(tx, envelope.tenant)
        targets = meeting_targets(
            policy,
            stage,
            participants,
            employee_id=parties.employee_id,
            manager_id=parties.manager_id,
        )
        facts = {
            "case_id": event.case_id,
            "meeting_number": event.meeting_number,
            "starts_at": starts_at.isoformat() if starts_at else None,
            "employee_id": parties.employee_id,
        }
        # Each meeting event is its own news: a second rescheduling is a second change.
        subject = f"event:{envelope.id}"
        news = News(event.case_id, subject, stage, facts, reminder=False, key_id=parties.key_id)
        await self._record(tx, envelope, policy, targets, news)

    async def _record(
        self,
        tx: AsyncConnection,
        envelope: Envelope,
        policy: TenantPolicy,
        targets: list[Target],
        news: News,
    ) -> None:
        people = [t.recipient_id for t in targets]
        known = await directory.get_recipients(tx, envelope.tenant, people)
        planned = notices(
            policy,
            targets,
            subject_key=news.subject_key,
            stage=news.stage,
            facts=news.facts,
            preferences={pid: r.channels for pid, r in known.items()},
            now=self._clock.now(),
            reminder=news.reminder,
        )
        created = await deliveries.record(
            tx,
            envelope.tenant,
            news.case_id,
            planned,
            now=self._clock.now(),
            source_event_id=envelope.id,
            key_id=news.key_id,
        )
        log.info("deliveries planned", planned=len(planned), new=len(created), stage=news.stage)


async def _case_key(tx: AsyncConnection, tenant: str, case_id: str) -> str | None:
    parties = await parties_of(tx, tenant, case_id)
    return None if parties is None else parties.key_id


def _obligation(event: DeadlineNotice, *, stage: str) -> ObligationStage:
    return ObligationStage(
        case_id=event.case_id,
        kind=event.kind,
        due_date=event.due_date,
        responsible=event.responsible,
        legal_basis=event.legal_basis,
        stage=stage,
        employee_id=event.employee_id,
        manager_id=event.manager_id,
    )


def _meeting_news(
    event: MeetingEvent, known: Meeting | None
) -> tuple[str, list[MeetingParticipant], datetime | None]:
    if isinstance(event, DialogueMeetingScheduled):
        stage = "changed" if known is not None and known.status == "scheduled" else "invited"
        people = [MeetingParticipant(p.party, p.party_id) for p in event.participants]
        return stage, people, as_utc(event.starts_at)
    if known is None:  # cancelled before we heard of it: the employee still hears
        return "cancelled", [], None
    people = [MeetingParticipant(p["party"], p.get("party_id")) for p in known.participants]
    return "cancelled", people, known.starts_at
