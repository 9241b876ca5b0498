"""A batch of the timeline projection: each case folded once per batch (issue 8).

Rebuilds and live consumers hand whole batches over, in one transaction each; a live batch
may begin in the middle of its cases' histories, on rows that digests and fired timers
already describe. Handled one by one, every event folds its case again, plans its timeline
and writes the case row. In a batch most of that is wasted: only a case's last
recomputation survives. What must stay exact is what other cases read in between: the
employee's other cases read the case's row (sick-pay history, the cascade to later cases),
and an erasure reads and deletes it.

So a case waits — its recomputation put off to the end of the batch — only while its
employee has no other case (the family read for the event is the case alone). Its
recomputation then sees what it would have seen at its last event: no other case, so no
history and no cascade. Before anything else can read its row, it is written: an event of
any case of the same employee (a new case opened, say) finds the waiting case in its family
and flushes it first; an erasure flushes everything first. Everything else is handled
exactly as ``TimelineProjection.handle`` does it. The waiting cases are written together,
set-based (``adapters.writes``); the batch's events are stored with one multi-row INSERT and
its cases' stored events read with one SELECT (``adapters.case_events``), as are the erased
cases among those it opens and the families of its cases: an event's family read is answered
from that first read until the batch writes a row of the family (then the table is asked).

The result is row for row what handling the events one by one gives: the case row's
version, key and manager are those the last event would have left, the timeline that of the
last fold (a manager reassignment folds nothing: the rows only get the new manager and the
digest loses its obligations part, as ``handle`` does it).

A rebuild may carry waiting cases over to later batches (``Carry``): in a log in calendar
order a case's events lie batches apart, and flushing every waiting case at each batch's end
folds a case again for nearly each of its events (re-opening all of its stored events each
time). Carried, a case is folded when something reads it (as above), when the rebuild ends,
or when the waiting cases hold more than ``Carry.limit`` events (the longest untouched
first): about once; such a case's opened events are then let go of. A case opened while it
waits is folded from its events as they come (``_Waiting.facts``: nothing is kept opened for
it, nothing read back from its rows). Its events are stored batch by batch all the same;
until its case is written they are reported as carried (``naervaer.messaging.rebuild.
CarriedEvents``), so the rebuild claims them and moves its checkpoint past them only then.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.digest import without_obligations
from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.repository import CaseHeader, Home
from deadline_service.adapters.writes import CaseWrite, write_cases
from deadline_service.domain.facts import CaseFacts, RecordedEvent, record
from naervaer.bulk import Together
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.messaging.rebuild import CarriedEvents

CASE_OPENED = next(t.name for t in CONTRACTS if t.model is CaseOpened)

if TYPE_CHECKING:
    from deadline_service.adapters.projection import TimelineProjection


@dataclass
class _Waiting:
    """A case whose recomputation waits for the end of the batch (or for a flush)."""

    case: CaseHeader  # as stored: its digest matches the stored timeline rows
    changes: dict[str, object] = field(default_factory=dict)
    refold: bool = False  # an event since it began waiting changes the facts
    reassigned_last: bool = False  # a reassignment came after the last such event
    new_row: dict[str, object] | None = None  # opened while waiting: its row, not stored yet
    events: list[tuple[UUID, int]] = field(default_factory=list)  # id, position: waiting
    held: int = 0  # how many of ``events`` are reported carried
    # Every stored event of a case opened while waiting passes ``add``: folded as they come,
    # its facts need no read of its events (None: fold them from the table when written).
    facts: CaseFacts | None = None
    folded_to: int = 0  # the last stream version in ``facts``

    def add(self, envelope: Envelope, event: object, keys: EventKeys) -> None:
        """What ``handle`` would change in the case row, the last event winning."""
        self.events.append((envelope.id, envelope.globalposition or 0))
        if self.facts is not None:
            if envelope.streamversion > self.folded_to:
                record(self.facts, RecordedEvent(str(envelope.id), event))
                self.folded_to = envelope.streamversion
            else:  # a version stored already (its first event stays): as the table says
                self.facts = None
        self.changes["version"] = envelope.streamversion
        self.changes["updated_at"] = envelope.time
        first_key = self.case.key_id is None and "key_id" not in self.changes
        if first_key and (key_id := keys.sealing_key_id) is not None:
            self.changes["key_id"] = key_id  # the first of its events that carries one
        if isinstance(event, ManagerReassigned):
            self.changes["manager_id"] = event.manager_id
            self.reassigned_last = True
        else:
            self.refold, self.reassigned_last = True, False


class _Homes:
    """Whose each stored case is: the batch's cases and their employees' other cases as
    read at its start, and the cases it opened since (its own writes are all it misses).

    A family as read at the start answers an event's family read (one SELECT a batch, not
    one an event) until the batch writes one of its rows or adds a case to it: from then on
    the family is read from the table again."""

    def __init__(self, families: dict[Home, list[CaseHeader]]) -> None:
        self.of: dict[str, Home] = {}
        self.members: dict[Home, set[str]] = {}
        self._families = families
        for home, family in families.items():
            for case in family:
                self.of[case.case_id] = home
                self.members.setdefault(home, set()).add(case.case_id)

    def add(self, case_id: str, home: Home) -> None:
        self.of[case_id] = home
        if case_id not in self.members.setdefault(home, set()):
            self.members[home].add(case_id)
            self.changed(home)

    def family(self, case_id: str) -> list[CaseHeader] | None:
        """The stored case's family as ``repo.case_family`` reads it now, if still known."""
        home = self.of.get(case_id)
        family = None if home is None else self._families.get(home)
        return None if family is None else list(family)

    def changed(self, home: Home) -> None:
        """The batch wrote a row of the family: read it from the table from now on."""
        self._families.pop(home, None)


@dataclass
class Carry:
    """What a rebuild carries from one batch to the next: the cases still waiting, longest
    untouched first, with at most ``limit`` events between them, and those events
    (``CarriedEvents``)."""

    limit: int  # events of waiting cases (not cases: the memory held grows with the events)
    written_at_end: int = 1_000  # cases a transaction writes when the rebuild ends
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    waiting_events: int = 0  # events of the waiting cases
    homes: dict[Home, set[str]] = field(default_factory=dict)  # whose each waiting case is
    events: CarriedEvents = field(default_factory=CarriedEvents)


class TimelineBatch:
    """One batch applied to the timeline projection in one transaction."""

    def __init__(
        self, projection: TimelineProjection, tx: AsyncConnection, carry: Carry | None = None
    ) -> None:
        self._projection = projection
        self._tx = tx
        self._events = projection.case_events(tx)
        self._carry = carry
        self._waiting: dict[str, _Waiting] = {} if carry is None else carry.waiting
        self._waiting_homes: dict[Home, set[str]] = {} if carry is None else carry.homes
        self._touched: set[str] = set()  # cases given events by this batch
        # Both known only until an erasure: it deletes case rows and records erased cases.
        self._erased: frozenset[repo.TenantCase] | None = None  # among the cases opened
        self._homes: _Homes | None = None

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        # What every event would read for itself, read for all at once: the cases' stored
        # events, which of the cases opened are erased, and whose each case is.
        # (A carried case's events are read only when it is folded.)
        await self._events.prefetch(
            e.streamid for e in envelopes if e.streamid not in self._waiting
        )
        opened = [(e, CONTRACTS.payload(e)) for e in envelopes if e.type == CASE_OPENED]
        self._erased = await repo.erased_among(
            self._tx, [(e.tenant, e.streamid) for e, _ in opened]
        )
        homes = {(e.tenant, p.employee_id) for e, p in opened if isinstance(p, CaseOpened)}
        families = await repo.families_of(self._tx, (e.streamid for e in envelopes), homes)
        self._homes = _Homes(families)
        for envelope in envelopes:
            await self._one(envelope)
        await self._write_out(self._beyond_carry())
        if self._carry is not None:  # what the batch brought to cases still waiting
            for case_id in self._touched:
                if (waiting := self._waiting.get(case_id)) is not None:
                    self._carry.events.hold(waiting.events[waiting.held :])
                    waiting.held = len(waiting.events)

    async def write_carried(self) -> None:
        """Write the longest untouched of the cases still carried, ``Carry.written_at_end``
        of them (the end of a rebuild: all at once would read all of their events at once)."""
        assert self._carry is not None
        await self._write_out(list(itertools.islice(self._waiting, self._carry.written_at_end)))

    async def _write_out(self, case_ids: list[str]) -> None:
        """The waiting cases' rows (``aged``, see ``_flush``) and the stored events: their
        last writes as one statement on PostgreSQL (``naervaer.bulk.Together``)."""
        together = Together(self._tx)
        await self._flush(case_ids, aged=True, together=together)
        await self._events.flush(together)
        await together.send()

    def _beyond_carry(self) -> list[str]:
        """The waiting cases to write now: all of them, unless carried (then the longest
        untouched until the rest hold no more than the limit's events)."""
        if self._carry is None:
            return list(self._waiting)
        beyond, held = [], self._carry.waiting_events
        for case_id, waiting in self._waiting.items():
            if held <= self._carry.limit:
                break
            beyond.append(case_id)
            held -= len(waiting.events)
        return beyond

    async def _one(self, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if isinstance(event, PersonalDataErased):
            await self._flush(list(self._waiting))  # it reads and deletes case rows
            self._erased = self._homes = None  # it erases cases: ask the tables from now on
            await self._projection.erase(self._tx, self._events, envelope.tenant, event)
            return
        keys = EventKeys.of(envelope)  # one scan of the payload for both questions
        if keys.destroyed():
            return  # as ``handle``: nothing is stored about an erased employee's case
        waiting = self._waiting.get(envelope.streamid)
        if waiting is not None:
            if repo.of_another_tenant(waiting.case, envelope):
                return
            if self._carry is not None:  # touched: the last to be written for the limit
                self._waiting[envelope.streamid] = self._waiting.pop(envelope.streamid)
                self._touched.add(envelope.streamid)
            self._events.store(envelope, event, keys, keep=self._keeps(waiting))
            self._add(waiting, envelope, event, keys)
            return
        await self._handle(envelope, event, keys)

    async def _handle(self, envelope: Envelope, event: object, keys: EventKeys) -> None:
        if self._opened_alone(envelope, event, keys):
            return
        family = await self._family(envelope, event)
        if family is None:
            return
        if repo.of_another_tenant(repo.member(family, envelope.streamid), envelope):
            return
        if blocking := [c.case_id for c in family if c.case_id in self._waiting]:
            await self._flush(blocking)  # this event reads their rows: bring them up to date
            family = await repo.case_family(self._tx, envelope.streamid)
        if len(family) == 1 and family[0].case_id == envelope.streamid:
            self._events.store(envelope, event, keys)
            self._add(self._wait(_Waiting(family[0])), envelope, event, keys)
            return
        if self._homes is not None and (me := repo.member(family, envelope.streamid)) is not None:
            self._homes.changed((me.tenant, me.employee_id))  # ``apply`` writes its rows
        await self._projection.apply(self._tx, self._events, envelope, event, family, keys)

    async def _family(self, envelope: Envelope, event: object) -> list[CaseHeader] | None:
        """What ``TimelineProjection.family`` would read for the event, from the batch's
        first read while the batch has written nothing of that family."""
        homes = self._homes
        if homes is None:
            return await self._projection.family(self._tx, envelope, event, self._erased)
        if (home := self._home(envelope, event)) is not None:
            # this event reads its family: their rows must be stored and up to date
            await self._flush(list(self._waiting_homes.get(home, ())))
        if not isinstance(event, CaseOpened) and (known := homes.family(envelope.streamid)):
            return known  # ``family`` reads only ``case_family`` for such an event
        family = await self._projection.family(self._tx, envelope, event, self._erased)
        if family and (me := repo.member(family, envelope.streamid)) is not None:
            homes.add(me.case_id, (me.tenant, me.employee_id))  # it may be new
        return family

    def _opened_alone(self, envelope: Envelope, event: object, keys: EventKeys) -> bool:
        """A case opened for an employee with no other case waits without a read: its
        family would be itself alone, its row as ``case.opened`` stores it. It is folded as
        its events come, unless the projection keeps folded facts (live): then when it is
        written, from the events stored (kept opened), so that its facts are kept."""
        homes, case_id = self._homes, envelope.streamid
        if homes is None or self._erased is None or not isinstance(event, CaseOpened):
            return False
        home = (envelope.tenant, event.employee_id)
        erased = (envelope.tenant, case_id) in self._erased
        if case_id in homes.of or erased or homes.members.get(home):
            return False  # stored already (a redelivery), erased, or not alone
        if self._waiting_homes.get(home):
            return False  # not alone: a case carried from an earlier batch, not stored yet
        homes.add(case_id, home)
        row = repo.opened_row(envelope, event)
        facts = None if self._projection.folds_on else CaseFacts(case_id)
        waiting = self._wait(_Waiting(repo.new_header(row), new_row=row, facts=facts))
        self._events.store(envelope, event, keys, keep=self._keeps(waiting))
        self._add(waiting, envelope, event, keys)
        return True

    def _home(self, envelope: Envelope, event: object) -> Home | None:
        """Whose case the event's family read finds (None: no stored case, an empty read)."""
        assert self._homes is not None
        if (home := self._homes.of.get(envelope.streamid)) is not None:
            return home
        if isinstance(event, CaseOpened):
            return (envelope.tenant, event.employee_id)
        return None

    def _keeps(self, waiting: _Waiting) -> bool:
        """Whether to keep the waiting case's events opened: not in a rebuild for a case whose
        facts it carries (live consumption keeps them for the case's next batches)."""
        return self._carry is None or waiting.facts is None

    def _add(self, waiting: _Waiting, envelope: Envelope, event: object, keys: EventKeys) -> None:
        waiting.add(envelope, event, keys)
        if self._carry is not None:
            self._carry.waiting_events += 1

    def _wait(self, waiting: _Waiting) -> _Waiting:
        case = waiting.case
        self._waiting[case.case_id] = waiting
        self._touched.add(case.case_id)
        self._waiting_homes.setdefault((case.tenant, case.employee_id), set()).add(case.case_id)
        return waiting

    async def _flush(
        self, case_ids: Sequence[str], *, aged: bool = False, together: Together | None = None
    ) -> None:
        """Write the waiting cases' rows, all of them in the same few statements.

        ``aged``: written because they waited longest (or the rebuild ends), not because
        something reads them: a rebuild then lets go of their opened events (few such cases
        get another event), so what it keeps opened is the events it still carries.
        ``together``: the last of the writes go with its others (``write_cases``)."""
        waiting = [self._waiting.pop(case_id) for case_id in case_ids]
        if not waiting:
            return
        for w in waiting:
            home = (w.case.tenant, w.case.employee_id)
            self._waiting_homes[home].discard(w.case.case_id)
            if not self._waiting_homes[home]:
                del self._waiting_homes[home]
        if self._homes is not None:
            for w in waiting:
                self._homes.changed((w.case.tenant, w.case.employee_id))
        if self._carry is not None:  # written in this transaction: no longer carried
            self._carry.events.release(event_id for w in waiting for event_id, _ in w.events)
            self._carry.waiting_events -= sum(len(w.events) for w in waiting)
            # the carried ones' events, not read yet (unless their facts are folded)
            await self._events.prefetch(w.case.case_id for w in waiting if w.facts is None)
        await repo.save_cases(self._tx, [w.new_row for w in waiting if w.new_row is not None])
        await write_cases(self._tx, [await self._write(w) for w in waiting], together)
        if aged and self._carry is not None:
            self._events.let_go(case_ids)

    async def _write(self, waiting: _Waiting) -> CaseWrite:
        """The case row and timeline its last event would have left."""
        case = waiting.case
        manager = str(waiting.changes.get("manager_id", case.manager_id))
        if not waiting.refold:  # reassignments only, as ``handle`` applies them
            row = {"timeline_digest": without_obligations(case.timeline_digest)}
            return CaseWrite(case, row | waiting.changes, manager=manager)
        # Its last fold saw no other case of the employee, so neither history nor cascade;
        # the rows carry the last manager (a later reassignment would have set it on them).
        case_now = replace(case, manager_id=manager)
        write = (
            await self._projection.recomputed(
                self._events, case_now, [], waiting.changes, waiting.facts
            )
        ).write
        if waiting.reassigned_last:
            write.row["timeline_digest"] = without_obligations(write.row["timeline_digest"])
        return write
