"""The timeline projection: case events in, each case's obligations and timers out.

Every relevant event is stored with its case, then the case is folded again from all of them
and its timeline recomputed, so replaying the log from scratch gives the identical result.
A manager reassignment changes no fact the rules read: it only updates the copies of the
manager in the case row and the timeline rows.

Cost (issue 8): a handled event is four to eight statements whatever the number of
obligations and timers: the case with its employee's other cases, the case's events, the
case row, the event, and — only those its digest says differ (``adapters.digest``) — the
obligation rows and the timers, one delete and one insert each (``adapters.writes``), each
one array per column on PostgreSQL (``naervaer.bulk``). A case whose sick-pay days change also
recomputes the employee's later cases. ``handle_batch`` takes a whole batch in one
transaction and folds a case once per batch where nothing else reads it meanwhile
(``adapters.batch``); the events are stored, and a case's stored events read, once per
transaction (``adapters.case_events``), each stored event is opened once, not once per
fold (``adapters.opened``), and a live case is folded on from its facts as last folded: only
the events stored since are opened and folded (``adapters.folded``).

Erasure: ``employee.personal_data_erased`` deletes everything about its cases. Events of an
erased case are ignored from then on, and so is every event whose key is destroyed: in a
rebuild those come before the erasure event, which then finds nothing left to delete.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.batch import Carry, TimelineBatch
from deadline_service.adapters.case_events import CaseEvents
from deadline_service.adapters.digest import compare, without_obligations
from deadline_service.adapters.erasure import erase_cases, is_erased
from deadline_service.adapters.folded import FoldedCases
from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.repository import CaseHeader
from deadline_service.adapters.tables import case_events, cases, erased_cases, obligations, timers
from deadline_service.adapters.writes import CaseWrite, write_cases
from deadline_service.config import Policies
from deadline_service.domain.absence import lay_days
from deadline_service.domain.calendar import iso_of_ordinal
from deadline_service.domain.facts import RELEVANT_PAYLOADS, CaseFacts
from deadline_service.domain.maxdate import known_sick_pay_ordinals
from deadline_service.domain.timeline import due_timers, plan_laid
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.messaging.rebuild import CarriedEvents
from naervaer.privacy import KEYRING, KeySource

REPLAY_CARRIED = 400_000
"""Events of the cases a rebuild carries from batch to batch: about 40 000 cases' worth, so in
a calendar-ordered log a case is seldom written before its last event (a million events of a
year: 115 614 folds with 400 000, 124 957 with 200 000, 166 434 with 100 000)."""
REPLAY_OPENED = 100_000
"""Opened events a rebuild keeps: those of cases it did not open itself (it folds the others
from their events as they come) — cases written because something read them, or aged out."""
HANDLED_PAYLOADS = RELEVANT_PAYLOADS | {ManagerReassigned, PersonalDataErased}
RELEVANT_TYPES = frozenset(t.name for t in CONTRACTS if t.model in HANDLED_PAYLOADS)


class TimelineProjection:
    """Each case's obligation timeline (frister) and its pending deadline timers."""

    name = "deadline-service.timeline"
    event_types: frozenset[str] | None = RELEVANT_TYPES

    def __init__(
        self,
        policies: Policies,
        keys: KeySource,
        opened: OpenedEvents | None = None,
        folded: FoldedCases | None = None,
    ) -> None:
        self._policies = policies
        self._keys = keys
        self._opened = opened if opened is not None else OpenedEvents()
        self._folded = folded if folded is not None else FoldedCases()

    @property
    def folds_on(self) -> bool:
        """Whether it keeps cases' facts folded across transactions (``adapters.folded``):
        then a batch folds a new case through them (to keep them), not as its events come."""
        return self._folded.keeps

    def for_rebuild(self) -> ReplayTimeline:
        """The projection a rebuild replays into (``naervaer.messaging.rebuild``)."""
        return ReplayTimeline(self._policies, self._keys)

    async def reset(self, tx: AsyncConnection) -> None:
        """Forget everything but the fired timers: they record what was already sent.

        The erased cases are forgotten too: the log's erasure events name them again."""
        for table in (obligations, case_events, cases, erased_cases):
            await tx.execute(delete(table))
        await tx.execute(delete(timers).where(timers.c.fired_at.is_(None)))

    async def handle(self, tx: AsyncConnection, envelope: Envelope) -> None:
        events = self.case_events(tx)
        event = CONTRACTS.payload(envelope)
        if isinstance(event, PersonalDataErased):
            await self.erase(tx, events, envelope.tenant, event)
        elif not (keys := EventKeys.of(envelope)).destroyed():  # else erased: store nothing
            family = await self.family(tx, envelope, event)
            if family is not None and not repo.of_another_tenant(
                repo.member(family, envelope.streamid), envelope
            ):
                await self.apply(tx, events, envelope, event, family, keys)
        await events.flush()

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        """A batch in one transaction: each case folded once per batch where nothing else reads
        it meanwhile (see ``adapters.batch``); the same rows as ``handle`` per envelope."""
        await TimelineBatch(self, tx).apply(envelopes)

    def case_events(self, tx: AsyncConnection) -> CaseEvents:
        """The stored case events as ``tx`` writes and folds them (flush before it commits)."""
        return CaseEvents(tx, self._keys, self._opened, self._folded)

    async def family(
        self,
        tx: AsyncConnection,
        envelope: Envelope,
        event: object,
        erased: frozenset[repo.TenantCase] | None = None,
    ) -> list[CaseHeader] | None:
        """The event's case and the employee's other cases (stored first for ``case.opened``);
        None for the opening of an erased case, empty for a case not opened yet. ``erased``:
        the erased cases among those a batch opens, read for all of them at once."""
        case_id = envelope.streamid
        if isinstance(event, CaseOpened):
            case = (envelope.tenant, case_id)
            if case in erased if erased is not None else await is_erased(tx, *case):
                return None
            await repo.save_case(tx, repo.opened_row(envelope, event))
        return await repo.case_family(tx, case_id)

    async def apply(
        self,
        tx: AsyncConnection,
        events: CaseEvents,
        envelope: Envelope,
        event: object,
        family: list[CaseHeader],
        keys: EventKeys,
    ) -> None:
        """Store a case event and recompute its case, ``family`` as read just before;
        ``keys``: the event's sealed tokens (``EventKeys.of``)."""
        case_id = envelope.streamid
        case = repo.member(family, case_id)
        if case is None:
            # No case row: an erased case (erasure deletes the row and nothing stores it
            # again, so a known case is never erased), or events before case.opened: kept,
            # and used once it arrives.
            if not await is_erased(tx, envelope.tenant, case_id):
                events.store(envelope, event, keys)
            return
        events.store(envelope, event, keys)
        changes = _row_changes(envelope, case, keys)
        if isinstance(event, ManagerReassigned):
            # The folded facts ignore who manages the case: only the copies change, and the
            # rows no longer match their digest: the next recomputation rewrites them.
            changes["manager_id"] = event.manager_id
            changes["timeline_digest"] = without_obligations(case.timeline_digest)
            await write_cases(tx, [CaseWrite(case, changes, manager=event.manager_id)])
            return
        others = [c for c in family if c.case_id != case_id]
        await self.refold(tx, events, case, others, changes)

    async def erase(
        self, tx: AsyncConnection, events: CaseEvents, tenant: str, event: PersonalDataErased
    ) -> None:
        """Delete everything about the erased cases; the employee's other cases (a new one
        after the erasure, say) no longer count their sick-pay days (ftrl § 8-12)."""
        await events.flush()  # the erasure deletes stored events too
        employees = await erase_cases(tx, tenant, event)
        events.forget()
        for employee_id in employees:
            for other in await repo.cases_of(tx, tenant, employee_id):
                await self.recompute(tx, events, other.case_id, cascade=False)
        KEYRING.forget(event.key_id)
        self._opened.forget_key(event.key_id)  # nor a payload opened with it
        self._folded.forget_key(event.key_id)  # nor facts folded from one

    async def recompute(
        self, tx: AsyncConnection, events: CaseEvents, case_id: str, *, cascade: bool = True
    ) -> None:
        """Fold the case again and store its timeline (see ``refold``)."""
        family = await repo.case_family(tx, case_id)
        case = repo.member(family, case_id)
        if case is None:
            return  # events before case.opened: kept, and used once it arrives
        others = [c for c in family if c.case_id != case_id]
        await self.refold(tx, events, case, others, {}, cascade=cascade)

    async def refold(
        self,
        tx: AsyncConnection,
        events: CaseEvents,
        case: CaseHeader,
        others: list[CaseHeader],
        changes: dict[str, object],
        *,
        cascade: bool = True,
    ) -> None:
        """Fold the case again and store its timeline, with ``changes`` to its row in the
        same UPDATE; a change to its sick-pay days is passed on to the employee's later
        cases (their max date counts them). ``case`` and ``others`` are as read in this
        transaction (``changes`` touch nothing the timeline rows copy)."""
        done = await self.recomputed(events, case, others, changes)
        await write_cases(tx, [done.write])
        if cascade and done.days != case.sick_pay_iso and done.start is not None:
            for later in others:
                if later.case_start is not None and later.case_start > done.start:
                    await self.recompute(tx, events, later.case_id, cascade=False)

    async def recomputed(
        self,
        events: CaseEvents,
        case: CaseHeader,
        others: list[CaseHeader],
        changes: dict[str, object],
        facts: CaseFacts | None = None,
    ) -> Recomputed:
        """The case folded again from its events and its timeline planned: what to write
        (the obligation rows and the timers only where they differ from its digest).
        ``facts``: the case's events folded already (by whoever saw every one of them)."""
        if facts is None:
            facts = await events.facts(case.case_id)
        absence = lay_days(facts)
        start = absence.start if absence else None
        policy = self._policies.for_tenant(case.tenant)
        history = repo.sick_pay_history(others, start) if start else None
        found = plan_laid(facts, absence, policy, history=history)
        wanted = due_timers(found, policy.reminder_lead_days)
        row_of = functools.partial(repo.obligation_row, case)
        change = compare(case.timeline_digest, repo.case_values(case), found, wanted, row_of)
        days = tuple(map(iso_of_ordinal, known_sick_pay_ordinals(absence))) if absence else ()
        row: dict[str, object] = {
            "case_start": start,
            "last_sick_day": absence.last_known_day if absence else None,
            "timeline_digest": change.digest,
        }
        if days != case.sick_pay_iso:  # else left as the row has them (most events)
            row["sick_pay_days"] = list(days)
        return Recomputed(CaseWrite.of(case, row | changes, change), days, start)


class ReplayTimeline(TimelineProjection):
    """The timeline as a rebuild replays the log into it: the same rows, folded about once a
    case. It carries the cases waiting at a batch's end over to later batches
    (``adapters.batch.Carry``: cases with up to ``REPLAY_CARRIED`` events unless told): one
    it opened is folded from its events as they came, another from its events kept opened
    (``REPLAY_OPENED``), so a carried case is not opened again from its rows when it is
    finally folded. It keeps no folded facts (``adapters.folded``): it folds a case about
    once."""

    def __init__(
        self,
        policies: Policies,
        keys: KeySource,
        carry: Carry | None = None,
        opened: int = REPLAY_OPENED,
    ) -> None:
        super().__init__(policies, keys, OpenedEvents(capacity=opened), FoldedCases(capacity=0))
        self._carry = carry if carry is not None else Carry(limit=REPLAY_CARRIED)
        self._opened_capacity = opened

    def for_rebuild(self) -> ReplayTimeline:
        return self  # already what a rebuild replays into (it ends carrying nothing)

    def partition_key(self, envelope: Envelope) -> str:
        """Tenants: a case's family, its erasure and its policy are all within its tenant."""
        return envelope.tenant

    def for_partition(self, partitions: int) -> ReplayTimeline:
        """A replay of one of ``partitions`` partitions: its share of this one's carry limit
        and of the events it keeps opened."""
        carry = Carry(self._carry.limit // partitions, self._carry.written_at_end)
        opened = self._opened_capacity // partitions
        return type(self)(self._policies, self._keys, carry, opened=opened)

    @property
    def carried(self) -> CarriedEvents:
        return self._carry.events

    async def handle_batch(self, tx: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
        await TimelineBatch(self, tx, self._carry).apply(envelopes)

    async def write_carried(self, tx: AsyncConnection) -> None:
        await TimelineBatch(self, tx, self._carry).write_carried()


@dataclass(frozen=True)
class Recomputed:
    """A case's recomputation: what to write, and what the cascade to later cases needs."""

    write: CaseWrite
    days: tuple[str, ...]  # its known sick-pay days, as its row keeps them
    start: date | None  # its first absence day


def _row_changes(envelope: Envelope, case: CaseHeader, keys: EventKeys) -> dict[str, object]:
    """What the handled event changes in the case row besides its timeline's summary."""
    changes: dict[str, object] = {"version": envelope.streamversion, "updated_at": envelope.time}
    if case.key_id is None and (key_id := keys.sealing_key_id) is not None:
        changes["key_id"] = key_id  # the first of its events that carries one
    return changes
