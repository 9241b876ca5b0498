"""A rebuild batch of the timeline projection: each case folded once per batch (issue 8).

Handled one by one, every event folds its case again, plans its timeline and writes the case
row. In a batch most of that is wasted: only a case's last recomputation survives. What must
stay exact is what other cases read in between: the employee's other cases read the case's
row (sick-pay history, the cascade to later cases), and an erasure reads and deletes it.

So a case waits — its events stored at once, its recomputation put off to the end of the
batch — only while its employee has no other case (the family read for the event is the case
alone). Its recomputation then sees what it would have seen at its last event: no other
case, so no history and no cascade. Before anything else can read its row, it is written:
an event of any case of the same employee (a new case opened, say) finds the waiting case in
its family and flushes it first; an erasure flushes everything first. Everything else is
handled exactly as ``TimelineProjection.handle`` does it.

The result is row for row what handling the events one by one gives: the case row's
version, key and manager are those the last event would have left, the timeline that of the
last fold (a manager reassignment folds nothing: the rows only get the new manager and the
digest loses its obligations part, as ``handle`` does it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.keys import key_destroyed
from deadline_service.adapters.repository import CaseHeader
from naervaer.contracts import CONTRACTS
from naervaer.contracts.case import ManagerReassigned
from naervaer.contracts.employee import PersonalDataErased
from naervaer.envelope import Envelope
from naervaer.privacy import sealing_key_id

if TYPE_CHECKING:
    from deadline_service.adapters.projection import TimelineProjection


@dataclass
class _Waiting:
    """A case whose recomputation waits for the end of the batch (or for a flush)."""

    case: CaseHeader  # as stored: its digest matches the stored timeline rows
    changes: dict[str, object] = field(default_factory=dict)
    refold: bool = False  # an event since it began waiting changes the facts
    reassigned_last: bool = False  # a reassignment came after the last such event

    def add(self, envelope: Envelope, event: object) -> None:
        """What ``handle`` would change in the case row, the last event winning."""
        self.changes["version"] = envelope.streamversion
        self.changes["updated_at"] = envelope.time
        first_key = self.case.key_id is None and "key_id" not in self.changes
        if first_key and (key_id := sealing_key_id(envelope.data)) is not None:
            self.changes["key_id"] = key_id  # the first of its events that carries one
        if isinstance(event, ManagerReassigned):
            self.changes["manager_id"] = event.manager_id
            self.reassigned_last = True
        else:
            self.refold, self.reassigned_last = True, False


class TimelineBatch:
    """One rebuild batch applied to the timeline projection in one transaction."""

    def __init__(self, projection: TimelineProjection, tx: AsyncConnection) -> None:
        self._projection = projection
        self._tx = tx
        self._waiting: dict[str, _Waiting] = {}

    async def apply(self, envelopes: Sequence[Envelope]) -> None:
        for envelope in envelopes:
            await self._one(envelope)
        await self._flush(list(self._waiting))

    async def _one(self, envelope: Envelope) -> None:
        event = CONTRACTS.payload(envelope)
        if isinstance(event, PersonalDataErased):
            await self._flush(list(self._waiting))  # it reads and deletes case rows
            await self._projection.erase(self._tx, envelope.tenant, event)
            return
        if key_destroyed(envelope):
            return  # as ``handle``: nothing is stored about an erased employee's case
        waiting = self._waiting.get(envelope.streamid)
        if waiting is not None:
            await repo.store_event(self._tx, envelope)
            waiting.add(envelope, event)
            return
        await self._handle(envelope, event)

    async def _handle(self, envelope: Envelope, event: object) -> None:
        family = await self._projection.family(self._tx, envelope, event)
        if family is None:
            return
        if blocking := [c.case_id for c in family if c.case_id in self._waiting]:
            await self._flush(blocking)  # this event reads their rows: bring them up to date
            family = await repo.case_family(self._tx, envelope.streamid)
        if len(family) == 1 and family[0].case_id == envelope.streamid:
            await repo.store_event(self._tx, envelope)
            waiting = self._waiting[envelope.streamid] = _Waiting(family[0])
            waiting.add(envelope, event)
            return
        await self._projection.apply(self._tx, envelope, event, family)

    async def _flush(self, case_ids: Sequence[str]) -> None:
        for case_id in case_ids:
            await self._write(self._waiting.pop(case_id))

    async def _write(self, waiting: _Waiting) -> None:
        """The case row and timeline its last event would have left."""
        tx, case = self._tx, waiting.case
        manager = waiting.changes.get("manager_id", case.manager_id)
        if not waiting.refold:  # reassignments only, as ``handle`` applies them
            digest = repo.without_obligations(case.timeline_digest)
            await repo.update_case(tx, case.case_id, timeline_digest=digest, **waiting.changes)
            await repo.reassign_obligations(tx, case.case_id, str(manager))
            return
        # Its last fold saw no other case of the employee, so neither history nor cascade;
        # the rows carry the last manager (a later reassignment would have set it on them).
        case_now = replace(case, manager_id=str(manager))
        digest = await self._projection.refold(tx, case_now, [], waiting.changes, cascade=False)
        if waiting.reassigned_last:
            await repo.update_case(
                tx, case.case_id, timeline_digest=repo.without_obligations(digest)
            )
