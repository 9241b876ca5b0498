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

Across transactions the projection keeps the payloads opened (``adapters.opened``) and each
case's facts as last folded (``adapters.folded``): for a case it keeps events or facts of, only
which events are stored is read (case, version, event id; with kept facts only those after
the last one they hold, and a check of the rest: ``adapters.stored``), and the rows themselves
(their JSON) only of the cases with an event neither kept opened nor in its kept facts; a case
it keeps nothing of is read whole at once. A kept payload or fold is used once its keys are
loaded and alive. ``facts`` folds a case from its kept facts and the events stored since, or
from all of its events; ``load`` gives the events themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from deadline_service.adapters import repository as repo
from deadline_service.adapters.folded import Folded, FoldedCases, merged
from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.opened import Opened, OpenedEvents
from deadline_service.adapters.stored import Since, stored_since
from deadline_service.adapters.tables import case_events
from deadline_service.domain.facts import CaseFacts, RecordedEvent, record
from naervaer import on_driver
from naervaer.bulk import Together, insert_rows
from naervaer.db import among
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, KeySource


class InFacts:
    """A stored event the case's kept facts were folded from: not read, not opened."""


IN_FACTS = InFacts()

# A row of ``case_events`` as read: SQLAlchemy's ``Row`` or ``naervaer.on_driver``'s named
# tuple, its columns by name alike.
StoredRow = Any
_Stored = tuple[dict[str, Any], RecordedEvent]  # the row to insert, the event it holds
# version → as stored: a row not opened yet, an event kept opened (its keys not checked yet),
# an event in the case's kept facts, or the event as the fold takes it
_Known = dict[int, "StoredRow | Opened | InFacts | RecordedEvent"]
# Case ids per SELECT: bound values well below the databases' limits.
_CHUNK = 1_000
_c = case_events.c
_ROWS = {  # built once per dialect
    dialect: select(case_events).where(among(_c.case_id, "case_ids", dialect))
    for dialect in ("postgresql", "sqlite")
}


class CaseEvents:
    """Case events stored and read in one transaction: writes batched, reads kept."""

    def __init__(
        self, tx: AsyncConnection, keys: KeySource, opened: OpenedEvents, folded: FoldedCases
    ) -> None:
        self._tx = tx
        self._keys = keys
        self._opened = opened
        self._folded = folded
        self._pending: dict[str, dict[int, _Stored]] = {}  # case → version → not yet written
        self._known: dict[str, _Known] = {}  # case → version → as stored
        # (case, version) → the sealed tokens of the event stored there, once known
        self._keys_of: dict[tuple[str, int], EventKeys] = {}

    def store(
        self, envelope: Envelope, payload: object, keys: EventKeys, *, keep: bool = True
    ) -> None:
        """Store the event with its case (written at ``flush``; a stored version stays);
        ``keys``: its sealed tokens, as found once for every question about them; ``keep``:
        keep it opened for later transactions (if the projection keeps any)."""
        case_id, version = envelope.streamid, envelope.streamversion
        recorded = RecordedEvent(str(envelope.id), payload)
        self._keys_of.setdefault((case_id, version), keys)
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
        await self._fill(case_id, known)
        if not all(isinstance(item, RecordedEvent) for item in known.values()):
            await self._open(case_id, known)
        return [_opened(known[version]) for version in sorted(known)]

    async def facts(self, case_id: str) -> CaseFacts:
        """The case's events folded (``domain.facts.fold``), to be read only: from its kept
        facts where its stored events begin with theirs (only the rest opened and folded onto
        a copy), else from all of them; kept for the next transaction either way."""
        if case_id not in self._known:
            await self._read([case_id])
        known = self._known[case_id]
        stored = sorted(known)
        entry = self._folded.get(case_id)
        if entry is not None and not await self._usable(case_id, entry, stored):
            entry = None
        start = entry.count if entry is not None else 0
        if any(isinstance(known[version], InFacts) for version in stored[start:]):
            # events of kept facts it cannot use after all: their rows (one deleted since is
            # gone, as the SELECT would find it), and the fold from all of them
            await self._fill(case_id, known)
            stored, entry, start = sorted(known), None, 0
        if entry is not None and start == len(stored):
            return entry.facts  # nothing stored since
        facts = entry.opened() if entry is not None else CaseFacts(case_id)
        rest = {version: known[version] for version in stored[start:]}
        if not all(isinstance(item, RecordedEvent) for item in rest.values()):
            await self._open(case_id, rest)
            known.update(rest)
        for item in rest.values():
            record(facts, _opened(item))
        if self._folded.keeps:
            earlier = [entry.keys] if entry is not None else []
            await self._keep(case_id, stored, facts, earlier, rest)
        return facts

    async def _usable(self, case_id: str, entry: Folded, stored: list[int]) -> bool:
        """Whether the case's kept facts hold the first of its ``stored`` events (versions,
        in order) and none of their keys is destroyed (then they are dropped)."""
        if not entry.holds(stored):
            return False
        if entry.keys.tokens:
            await KEYRING.load_data(entry.keys.tokens, self._keys)
        if entry.alive():
            return True
        self._folded.drop(case_id)  # a key destroyed since: fold what the rows read as now
        return False

    async def _keep(
        self,
        case_id: str,
        stored: list[int],
        facts: CaseFacts,
        keys: list[EventKeys],
        folded: _Known,
    ) -> None:
        """Keep the case's facts, folded from ``stored``, for later transactions (``keys``:
        those of the events folded before ``folded``), unless the keys of an event folded are
        not known or one is destroyed (then it reads erased)."""
        for version in folded:
            event_keys = self._keys_of.get((case_id, version))
            if event_keys is None:
                return
            keys.append(event_keys)
        all_keys = merged(keys)
        if all_keys.tokens:
            await KEYRING.load_data(all_keys.tokens, self._keys)
        if all_keys.destroyed():
            self._folded.drop(case_id)  # nor the facts kept before: they held its plaintext
        else:
            self._folded.keep(case_id, stored, facts, all_keys)

    async def flush(self, together: Together | None = None) -> None:
        """Write the stored events: one INSERT, nothing if none (with ``together``'s other
        writes where given: its owner sends them)."""
        rows = [row for stored in self._pending.values() for row, _ in stored.values()]
        self._pending.clear()
        if together is None:
            await insert_rows(self._tx, case_events, rows, skip_conflicts=True)
        else:
            await together.insert_new(case_events, rows)

    def let_go(self, case_ids: Iterable[str]) -> None:
        """Keep none of the cases' events opened after this transaction (``OpenedEvents``);
        a later transaction reads them from their rows again."""
        for case_id in case_ids:
            for version in self._known.get(case_id, ()):
                self._opened.drop_at((case_id, version))
        for case_id in case_ids:
            self._folded.drop(case_id)

    def forget(self) -> None:
        """Read the cases' events again from the table (after something deleted some)."""
        self._known.clear()

    async def _read(self, case_ids: list[str]) -> None:
        """What the cases have stored: the events kept opened or in the case's kept facts where
        the projection keeps all of a case's, else its rows (one SELECT of which events, from
        the last one folded on where facts are kept, one of rows, at most)."""
        kept: dict[str, dict[int, Opened | InFacts]] = {}
        whole = {case_id for case_id in case_ids if not self._kept_before(case_id)}
        if heads := [case_id for case_id in case_ids if case_id not in whole]:
            folded = {case_id: self._folded.get(case_id) for case_id in heads}
            asked = [Since.of(c, entry.versions if entry else ()) for c, entry in folded.items()]
            for case_id, stored in (await stored_since(self._tx, asked)).items():
                entry = folded[case_id]
                held = entry.versions if entry is not None and stored.intact else ()
                kept[case_id], complete = self._kept_of(case_id, held, stored.events)
                if not (complete and stored.intact):
                    whole.add(case_id)  # an event not kept, or other versions: read its rows
        found: dict[str, _Known] = {case_id: {} for case_id in case_ids}
        for case_id in found.keys() - whole:
            found[case_id].update(kept.get(case_id, {}))
        if whole:
            params = {"case_ids": [*whole]}
            for row in await on_driver.fetch(self._tx, _ROWS[self._tx.dialect.name], params):
                opened = kept.get(row.case_id, {}).get(row.stream_version)
                if isinstance(opened, Opened) and opened.event_id == row.event_id:
                    found[row.case_id][row.stream_version] = opened
                else:
                    found[row.case_id][row.stream_version] = row
        for case_id, case_known in found.items():
            self._remember(case_id, case_known)

    def _kept_before(self, case_id: str) -> bool:
        """Events or facts of the case stored before this transaction are kept (else reading
        its rows at once is the cheaper way: they would all be read)."""
        return case_id in self._folded or self._opened.count(case_id) > len(
            self._pending.get(case_id, ())
        )

    def _kept_of(
        self, case_id: str, held: Sequence[int], after: list[tuple[int, UUID]]
    ) -> tuple[dict[int, Opened | InFacts], bool]:
        """The case's stored events as kept: those of the ``held`` versions in its kept facts
        (not read, not looked up among the opened ones: a long case has hundreds), those
        ``after`` them (version, event id, in order) opened; and whether every one is (else
        its rows are read, and only the opened ones are kept: for those rows)."""
        known: dict[int, Opened | InFacts] = dict.fromkeys(held, IN_FACTS)
        complete = True
        for version, event_id in after:
            opened = self._opened.get((case_id, version), event_id)
            if opened is not None:
                known[version] = opened
            else:
                complete = False
        if not complete:
            known = {v: item for v, item in known.items() if isinstance(item, Opened)}
        return known, complete

    async def _fill(self, case_id: str, known: _Known) -> None:
        """Read the rows of the case's events known only to be in its kept facts (when the
        events themselves are wanted after all); one deleted since is no longer known."""
        if not any(isinstance(item, InFacts) for item in known.values()):
            return
        params = {"case_ids": [case_id]}
        for row in await on_driver.fetch(self._tx, _ROWS[self._tx.dialect.name], params):
            if isinstance(known.get(row.stream_version), InFacts):
                known[row.stream_version] = row
        for version in [v for v, item in known.items() if isinstance(item, InFacts)]:
            del known[version]

    async def _open(self, case_id: str, known: _Known) -> None:
        """Open the events not opened yet: a kept one where its keys live, else its row.

        The keys are loaded as for opening every row: a kept event's tokens stand for its
        row's data (``KEYRING.load_data`` asks only for the keys the tokens name). A row's
        data is walked for its tokens once, for loading its keys and for keeping it."""
        kept = {v: item for v, item in known.items() if isinstance(item, Opened)}
        rows: dict[int, StoredRow] = {v: item for v, item in known.items() if _is_row(item)}
        sealed = {v: EventKeys.in_data(row.data) for v, row in rows.items()}
        tokens = [t for opened in kept.values() for t in opened.keys.tokens]
        tokens.extend(t for keys in sealed.values() for t in keys.tokens)
        await KEYRING.load_data(tokens, self._keys)
        for version, opened in kept.items():
            self._keys_of[case_id, version] = opened.keys
            if opened.alive():
                known[version] = opened.recorded
            else:  # a key destroyed since: the row reads as erased now
                self._opened.drop(opened)
                rows[version] = known[version] = row = await self._row(case_id, version)
                sealed[version] = EventKeys.in_data(row.data)
        for version, row in rows.items():
            self._keys_of[case_id, version] = sealed[version]
            known[version] = self._open_row(row, sealed[version])

    def _open_row(self, row: StoredRow, keys: EventKeys) -> RecordedEvent:
        """The row's event, kept opened if the projection keeps any (``keys``: its data's)."""
        recorded = repo.recorded(row)
        if not self._opened.keeps:
            return recorded
        where = (row.case_id, row.stream_version)
        opened = self._opened.keep(where, row.event_id, recorded, keys)
        if not opened.alive():  # it reads as erased: keep no payload of an erased employee
            self._opened.drop(opened)
        return recorded

    async def _row(self, case_id: str, version: int) -> StoredRow:
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


def _is_row(item: StoredRow | Opened | InFacts | RecordedEvent) -> bool:
    """Whether ``item`` is a stored row not opened yet (a row is of no class of ours)."""
    return not isinstance(item, Opened | InFacts | RecordedEvent)


def _opened(item: StoredRow | Opened | InFacts | RecordedEvent) -> RecordedEvent:
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
