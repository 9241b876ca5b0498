"""The stored case events (``case_events``) as one transaction writes and folds them.

A timeline is folded from all of its case's events, so handling an event used to mean one
INSERT for it and one SELECT of every event of its case — per event, even in a batch where
the events just stored are still in hand. Here the INSERTs wait for one statement at
``flush``, and a case's events are read once per transaction and then kept, the events
stored since added in memory: the same list the SELECT would return. A batch reads the events
of all of its cases at once first (``prefetch``); their payloads are opened only when a fold
asks for them (a case whose key is destroyed meanwhile is never folded).

What the SELECT would return is kept exact: the stored row wins over a later one of the same
stream version (the INSERT does nothing on conflict), and payloads are opened and upcast as
the read opens them (``CONTRACTS.payload`` unseals with the same key ring). An erasure deletes
stored events behind this cache: flush before it and ``forget`` after.

Across transactions the projection keeps the payloads opened (``adapters.opened``): for a case
it keeps events of, only which events are stored is read (case, version, event id), and the
rows themselves (their JSON) only of the cases with an event not kept; a case it keeps none of
is read whole at once. A kept payload is used once its keys are loaded and alive.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.opened import Opened, OpenedEvents
from deadline_service.adapters.tables import case_events
from deadline_service.domain.facts import RecordedEvent
from naervaer.bulk import insert_rows
from naervaer.db import among
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource

_Stored = tuple[dict[str, Any], RecordedEvent]  # the row to insert, the event it holds
# version → as stored: a row not opened yet, an event kept opened (its keys not checked yet),
# or the event as the fold takes it
_Known = dict[int, Row[Any] | Opened | RecordedEvent]
# Case ids per SELECT: bound values well below the databases' limits.
_CHUNK = 1_000
_c = case_events.c
_ROWS = {  # built once per dialect: at most two are run per batch
    dialect: select(case_events).where(among(_c.case_id, "case_ids", dialect))
    for dialect in ("postgresql", "sqlite")
}
_HEADS = {
    dialect: select(_c.case_id, _c.stream_version, _c.event_id).where(
        among(_c.case_id, "case_ids", dialect)
    )
    for dialect in ("postgresql", "sqlite")
}


class CaseEvents:
    """Case events stored and read in one transaction: writes batched, reads kept."""

    def __init__(self, tx: AsyncConnection, keys: KeySource, opened: OpenedEvents) -> None:
        self._tx = tx
        self._keys = keys
        self._opened = opened
        self._pending: dict[str, dict[int, _Stored]] = {}  # case → version → not yet written
        self._known: dict[str, _Known] = {}  # case → version → as stored

    def store(
        self, envelope: Envelope, payload: object, keys: EventKeys, *, keep: bool = True
    ) -> None:
        """Store the event with its case (written at ``flush``; a stored version stays);
        ``keys``: its sealed tokens, as found once for every question about them; ``keep``:
        keep it opened for later transactions (if the projection keeps any)."""
        case_id, version = envelope.streamid, envelope.streamversion
        recorded = RecordedEvent(str(envelope.id), payload)
        pending = self._pending.setdefault(case_id, {})
        if version not in pending:
            pending[version] = (_row(envelope), recorded)
            if keep and self._opened.keeps:
                # the payload opening its row will give (``CONTRACTS.payload``), if stored
                where = (case_id, version)
                self._opened.keep(where, envelope.id, recorded, keys)
        if (known := self._known.get(case_id)) is not None:
            known.setdefault(version, recorded)

    async def prefetch(self, case_ids: Iterable[str]) -> None:
        """Read the stored events of many cases at once (a batch's), not one case a fold."""
        wanted = sorted(set(case_ids) - self._known.keys())
        for start in range(0, len(wanted), _CHUNK):
            await self._read(wanted[start : start + _CHUNK])

    async def load(self, case_id: str) -> list[RecordedEvent]:
        """The case's events in stream order, as current contract payloads."""
        if case_id not in self._known:
            await self._read([case_id])
        known = self._known[case_id]
        if not all(isinstance(item, RecordedEvent) for item in known.values()):
            await self._open(case_id, known)
        return [_opened(known[version]) for version in sorted(known)]

    async def flush(self) -> None:
        """Write the stored events: one INSERT, nothing if none."""
        rows = [row for stored in self._pending.values() for row, _ in stored.values()]
        self._pending.clear()
        await insert_rows(self._tx, case_events, rows, skip_conflicts=True)

    def let_go(self, case_ids: Iterable[str]) -> None:
        """Keep none of the cases' events opened after this transaction (``OpenedEvents``);
        a later transaction reads them from their rows again."""
        for case_id in case_ids:
            for version in self._known.get(case_id, ()):
                self._opened.drop_at((case_id, version))

    def forget(self) -> None:
        """Read the cases' events again from the table (after something deleted some)."""
        self._known.clear()

    async def _read(self, case_ids: list[str]) -> None:
        """What the cases have stored: the events kept opened where the projection keeps all
        of a case's, else its rows (one SELECT of which events, one of rows, at most)."""
        kept: dict[str, dict[int, Opened]] = {}
        whole = {case_id for case_id in case_ids if not self._kept_before(case_id)}
        if heads := [case_id for case_id in case_ids if case_id not in whole]:
            result = await self._tx.execute(_HEADS[self._tx.dialect.name], {"case_ids": heads})
            for case_id, version, event_id in result:
                opened = self._opened.get((case_id, version), event_id)
                if opened is None:
                    whole.add(case_id)  # an event not kept: read the case's rows
                else:
                    kept.setdefault(case_id, {})[version] = opened
        found: dict[str, _Known] = {case_id: {} for case_id in case_ids}
        for case_id in found.keys() - whole:
            found[case_id].update(kept.get(case_id, {}))
        if whole:
            rows = await self._tx.execute(_ROWS[self._tx.dialect.name], {"case_ids": [*whole]})
            row: Row[Any]
            for row in rows:
                opened = kept.get(row.case_id, {}).get(row.stream_version)
                if opened is not None and opened.event_id == row.event_id:
                    found[row.case_id][row.stream_version] = opened
                else:
                    found[row.case_id][row.stream_version] = row
        for case_id, known in found.items():
            self._remember(case_id, known)

    def _kept_before(self, case_id: str) -> bool:
        """Events of the case stored before this transaction are kept (else reading its rows
        at once is the cheaper way: they would all be read)."""
        return self._opened.count(case_id) > len(self._pending.get(case_id, ()))

    async def _open(self, case_id: str, known: _Known) -> None:
        """Open the events not opened yet: a kept one where its keys live, else its row.

        The keys are loaded as for opening every row: a kept event's tokens stand for its
        row's data (``KEYRING.load_data`` asks only for the keys the tokens name). A row's
        data is walked for its tokens once, for loading its keys and for keeping it."""
        kept = {v: item for v, item in known.items() if isinstance(item, Opened)}
        rows = {v: item for v, item in known.items() if isinstance(item, Row)}
        sealed = {v: EventKeys.in_data(row.data) for v, row in rows.items()}
        tokens = [t for opened in kept.values() for t in opened.keys.tokens]
        tokens.extend(t for keys in sealed.values() for t in keys.tokens)
        await KEYRING.load_data(tokens, self._keys)
        for version, opened in kept.items():
            if opened.alive():
                known[version] = opened.recorded
            else:  # a key destroyed since: the row reads as erased now
                self._opened.drop(opened)
                rows[version] = known[version] = row = await self._row(case_id, version)
                sealed[version] = EventKeys.in_data(row.data)
        for version, row in rows.items():
            known[version] = self._open_row(row, sealed[version])

    def _open_row(self, row: Row[Any], keys: EventKeys) -> RecordedEvent:
        """The row's event, kept opened if the projection keeps any (``keys``: its data's)."""
        recorded = repo.recorded(row)
        if not self._opened.keeps:
            return recorded
        where = (row.case_id, row.stream_version)
        opened = self._opened.keep(where, row.event_id, recorded, keys)
        if not opened.alive():  # it reads as erased: keep no payload of an erased employee
            self._opened.drop(opened)
        return recorded

    async def _row(self, case_id: str, version: int) -> Row[Any]:
        """One stored row (of an event kept opened whose key is destroyed since: rare)."""
        statement = select(case_events).where(
            case_events.c.case_id == case_id, case_events.c.stream_version == version
        )
        row = (await self._tx.execute(statement)).one()
        await KEYRING.load_data([row.data], self._keys)
        return row

    def _remember(self, case_id: str, known: _Known) -> None:
        """Keep the case's stored events, with those stored since (a stored version stays)."""
        for version, (_, recorded) in self._pending.get(case_id, {}).items():
            known.setdefault(version, recorded)
        self._known[case_id] = known


def _opened(item: Row[Any] | Opened | RecordedEvent) -> RecordedEvent:
    assert isinstance(item, RecordedEvent)  # ``load`` opened every stored event first
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
