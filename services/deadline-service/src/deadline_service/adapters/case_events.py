"""The stored case events (``case_events``) as one transaction writes and folds them.

A timeline is folded from all of its case's events, so handling an event used to mean one
INSERT for it and one SELECT of every event of its case — per event, even in a batch where
the events just stored are still in hand. Here the INSERTs wait for one multi-row statement
at ``flush``, and a case's events are read once per transaction and then kept, the events
stored since added in memory: the same list the SELECT would return. A batch reads the events
of all of its cases in one SELECT first (``prefetch``); their payloads are opened only when a
fold asks for them (a case whose key is destroyed meanwhile is never folded).

What the SELECT would return is kept exact: the stored row wins over a later one of the same
stream version (the INSERT does nothing on conflict), and payloads are opened and upcast as
the read opens them (``CONTRACTS.payload`` unseals with the same key ring). An erasure deletes
stored events behind this cache: flush before it and ``forget`` after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.tables import case_events
from deadline_service.domain.facts import RecordedEvent
from naervaer.db import among
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource

_Stored = tuple[dict[str, Any], RecordedEvent]  # the row to insert, the event it holds
_Known = dict[int, Row[Any] | RecordedEvent]  # version → as stored (opened once asked for)
# Case ids per prefetching SELECT: bound values well below the databases' limits.
_PREFETCH_CHUNK = 1_000
_PREFETCH = {  # built once per dialect: one is run per batch
    dialect: select(case_events).where(among(case_events.c.case_id, "case_ids", dialect))
    for dialect in ("postgresql", "sqlite")
}


class CaseEvents:
    """Case events stored and read in one transaction: writes batched, reads kept."""

    def __init__(self, tx: AsyncConnection, keys: KeySource) -> None:
        self._tx = tx
        self._keys = keys
        self._pending: dict[str, dict[int, _Stored]] = {}  # case → version → not yet written
        self._known: dict[str, _Known] = {}  # case → version → as stored

    def store(self, envelope: Envelope, payload: object) -> None:
        """Store the event with its case (written at ``flush``; a stored version stays)."""
        case_id, version = envelope.streamid, envelope.streamversion
        recorded = RecordedEvent(str(envelope.id), payload)
        self._pending.setdefault(case_id, {}).setdefault(version, (_row(envelope), recorded))
        if (known := self._known.get(case_id)) is not None:
            known.setdefault(version, recorded)

    async def prefetch(self, case_ids: Iterable[str]) -> None:
        """Read the stored events of many cases at once (a batch's), not one case a fold."""
        wanted = sorted(set(case_ids) - self._known.keys())
        for start in range(0, len(wanted), _PREFETCH_CHUNK):
            chunk = wanted[start : start + _PREFETCH_CHUNK]
            found: dict[str, _Known] = {case_id: {} for case_id in chunk}
            statement = _PREFETCH[self._tx.dialect.name]
            for row in await self._tx.execute(statement, {"case_ids": chunk}):
                found[row.case_id][row.stream_version] = row
            for case_id, known in found.items():
                self._remember(case_id, known)

    async def load(self, case_id: str) -> list[RecordedEvent]:
        """The case's events in stream order, as current contract payloads."""
        known = self._known.get(case_id)
        if known is None:
            statement = select(case_events).where(case_events.c.case_id == case_id)
            rows = (await self._tx.execute(statement)).all()
            known = self._remember(case_id, {row.stream_version: row for row in rows})
        unopened = [item for item in known.values() if isinstance(item, Row)]
        if unopened:
            await KEYRING.load_data((row.data for row in unopened), self._keys)
            for version, item in known.items():
                if isinstance(item, Row):
                    known[version] = repo.recorded(item)
        return [_opened(known[version]) for version in sorted(known)]

    async def flush(self) -> None:
        """Write the stored events: one multi-row INSERT, nothing if none."""
        rows = [row for stored in self._pending.values() for row, _ in stored.values()]
        self._pending.clear()
        if rows:
            statement = repo.dialect_insert(self._tx, case_events).on_conflict_do_nothing()
            await self._tx.execute(statement, rows)

    def forget(self) -> None:
        """Read the cases' events again from the table (after something deleted some)."""
        self._known.clear()

    def _remember(self, case_id: str, known: _Known) -> _Known:
        """Keep the case's stored events, with those stored since (a stored version stays)."""
        for version, (_, recorded) in self._pending.get(case_id, {}).items():
            known.setdefault(version, recorded)
        self._known[case_id] = known
        return known


def _opened(item: Row[Any] | RecordedEvent) -> RecordedEvent:
    assert isinstance(item, RecordedEvent)  # ``load`` opened every stored row first
    return item


def _row(envelope: Envelope) -> dict[str, Any]:
    return {
        "case_id": envelope.streamid,
        "stream_version": envelope.streamversion,
        "event_id": envelope.id,
        "type": envelope.type,
        "schema_version": envelope.schemaversion,
        "data": envelope.data,
    }
