"""PostgreSQL write path: one statement per append, built from data-modifying CTEs.

The statement checks the command log (a retried command writes nothing), moves the stream
version (the optimistic-concurrency check), logs the command, takes the ``event_log_head`` row
lock and advances it, inserts the events from ``unnest`` arrays, inserts the outbox rows
(one per event, or one per append) and queues a NOTIFY. Every write hangs off the stream
step's RETURNING, so a duplicate command or a version mismatch makes the statement write
nothing at all: it is safe to run on its own in autocommit, where no rollback would undo a
half-done append. The final SELECT tells which happened. The head row lock is held until
commit (the statement's end, in autocommit): positions are handed out in commit order, and a
reader that has seen position p never later sees a smaller one.

Every append of a store runs the same statement (the expected version and the command id are
parameters, NULL when absent), so a group commit's appends always go in one pipelined run.

Two retries of one command racing each other both pass the command-log check; the loser then
either finds the stream moved (reported as a conflict, which the caller re-checks against the
command log) or, with ``expected_version=None``, fails on the command log's primary key, which
aborts its whole statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import groupby
from operator import itemgetter
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Dialect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.eventstore.backend import Appended, Duplicate
from naervaer.eventstore.errors import ConcurrencyConflict, StreamOfAnotherTenant
from naervaer.eventstore.model import AppendBatch
from naervaer.eventstore.reading import EventReader
from naervaer.eventstore.tables import EventStoreTables

NOTIFY_CHANNEL = "naervaer_outbox"
_NAMED = re.compile(r"(?<![:\w]):([a-z_]+)")  # a bound parameter, e.g. :stream_id

# The head row lock comes first, before the stream row's: every append then takes its locks
# in one order (head, stream), so two transactions of appends can never wait for each other
# in a circle — as a group holding the head lock for its later statements and another
# statement holding a stream row while it waits for the head would.
_SEEN = """lock AS MATERIALIZED (
    SELECT 1 FROM {head} WHERE id = 1 FOR UPDATE
), seen AS (
    SELECT EXISTS (SELECT 1 FROM {command_log}
                   WHERE command_id = CAST(:command_id AS text)) AS logged
    FROM (SELECT count(*) FROM lock) AS locked
)"""

# One step for every expected version, so that any appends can share one pipelined run: the
# row is inserted when the stream may be new (expected None or 0) or exists already (then the
# insert turns into the update), and updated only when expected is None or matches and the
# stream is the append's tenant's (else nothing is written: ``StreamOfAnotherTenant``).
_STREAM = """stream AS (
    INSERT INTO {streams} (stream_id, stream_type, tenant, version, created_at, updated_at)
    SELECT CAST(:stream_id AS text), CAST(:stream_type AS text), CAST(:tenant AS text),
           CAST(:n AS integer), CAST(:now AS timestamptz), CAST(:now AS timestamptz)
    FROM seen
    WHERE NOT seen.logged
      AND (coalesce(CAST(:expected AS integer), 0) = 0
           OR EXISTS (SELECT 1 FROM {streams} WHERE stream_id = CAST(:stream_id AS text)))
    ON CONFLICT (stream_id) DO UPDATE
        SET version = {streams}.version + EXCLUDED.version, updated_at = EXCLUDED.updated_at
        WHERE {streams}.version = coalesce(CAST(:expected AS integer), {streams}.version)
          AND {streams}.tenant = EXCLUDED.tenant
    RETURNING version
)"""

_COMMAND = """cmd AS (
    INSERT INTO {command_log} (command_id, stream_id, recorded_at, fingerprint)
    SELECT CAST(:command_id AS text), CAST(:stream_id AS text), CAST(:now AS timestamptz),
           CAST(:fingerprint AS text)
    FROM stream
    WHERE CAST(:command_id AS text) IS NOT NULL
    RETURNING command_id
)"""

_HEAD_AND_EVENTS = """head AS (
    INSERT INTO {head} (id, position) SELECT 1, CAST(:n AS integer) FROM stream
    ON CONFLICT (id) DO UPDATE SET position = {head}.position + EXCLUDED.position
    RETURNING position
), ev AS (
    INSERT INTO {events} (global_position, event_id, stream_id, stream_version, stream_type,
                          tenant, type, schema_version, data, recorded_at, correlation_id,
                          causation_id, command_id, traceparent, tracestate)
    SELECT head.position - CAST(:n AS integer) + e.ord, e.event_id, CAST(:stream_id AS text),
           stream.version - CAST(:n AS integer) + e.ord, CAST(:stream_type AS text),
           CAST(:tenant AS text), e.type, e.schema_version, CAST(e.data AS jsonb),
           CAST(:now AS timestamptz), CAST(:correlation_id AS text),
           CAST(:causation_id AS text), CAST(:command_id AS text),
           CAST(:traceparent AS text), CAST(:tracestate AS text)
    FROM head, stream,
         unnest(CAST(:event_ids AS uuid[]), CAST(:types AS text[]),
                CAST(:schema_versions AS integer[]), CAST(:datas AS text[]))
             WITH ORDINALITY AS e(event_id, type, schema_version, data, ord)
    RETURNING global_position
)"""

# One outbox row names all the append's events (NULL last position: one event alone)...
_OUTBOX_PER_APPEND = """ob AS (
    INSERT INTO {outbox} (global_position, last_position, topic, message_key, created_at)
    SELECT head.position - CAST(:n AS integer) + 1,
           CASE WHEN CAST(:n AS integer) > 1 THEN head.position END,
           CAST(:topic AS text), CAST(:stream_id AS text), CAST(:outbox_at AS timestamptz)
    FROM head
    RETURNING global_position
)"""

# ... or one row per event (the default: see PlatformSettings.outbox_row_per_append).
_OUTBOX_PER_EVENT = """ob AS (
    INSERT INTO {outbox} (global_position, topic, message_key, created_at)
    SELECT global_position, CAST(:topic AS text), CAST(:stream_id AS text),
           CAST(:outbox_at AS timestamptz)
    FROM ev
    RETURNING global_position
)"""

_WAKE = """wake AS (
    SELECT pg_notify('{channel}', coalesce(current_schema(), ''))
    FROM (SELECT 1 FROM ob LIMIT 1) AS written
)"""

# ``current`` and ``owner``: the stream as the statement found it (its snapshot).
_RESULT = """SELECT (SELECT logged FROM seen) AS seen,
       (SELECT version FROM stream) AS version,
       found.version AS current,
       found.tenant AS owner,
       (SELECT position FROM head) AS position,
       (SELECT count(*) FROM ev) AS appended,
       {woken} AS woken
FROM (SELECT 1) AS one
LEFT JOIN {streams} AS found ON found.stream_id = CAST(:stream_id AS text)"""


@dataclass(frozen=True)
class _Variant:
    """Which statement shape an append needs (each shape is built once, then cached).

    Only the outbox tells shapes apart (whether there is one, and whether it writes a row per
    append), and it is the same for every append of a store: the expected version and the
    command id are parameters, so a group of appends is always one pipelined run (one round
    trip), never a transaction of several.
    """

    outbox: bool
    row_per_append: bool = False


class PostgresAppender:
    """Appends with one round trip per batch (the PostgreSQL fast path)."""

    def __init__(self, tables: EventStoreTables, dialect: Dialect, reader: EventReader) -> None:
        self._reader = reader
        preparer = dialect.identifier_preparer
        self._names = {
            "streams": preparer.format_table(tables.streams),
            "events": preparer.format_table(tables.events),
            "head": preparer.format_table(tables.event_log_head),
            "command_log": preparer.format_table(tables.command_log),
            "outbox": preparer.format_table(tables.outbox),
            "channel": NOTIFY_CHANNEL,
        }
        # Each statement shape is built once: as SQLAlchemy text, and in asyncpg's style.
        self._sql = cache(self._build)
        self._statement = cache(lambda variant: text(self._sql(variant)))
        self._positional = cache(self._numbered)
        self._arguments = cache(lambda variant: itemgetter(*self._positional(variant)[1]))

    async def append(self, conn: AsyncConnection, batch: AppendBatch) -> Appended | Duplicate:
        statement = self._statement(_variant(batch))
        row = (await conn.execute(statement, _params(batch))).mappings().one()
        return await self.settle(conn, batch, row)

    async def append_many(
        self, raw: asyncpg.Connection, batches: Sequence[AppendBatch]
    ) -> list[Mapping[str, Any]]:
        """Run the statements of ``batches`` in one transaction; their result rows, in order.

        Consecutive batches of one statement shape go in one ``fetchmany``: every execution
        is sent before a single Sync, so the run is one round trip and, outside an explicit
        transaction, one implicit transaction (one commit, one WAL flush); several runs share
        an explicit transaction. Each statement sees the ones before it. A failing statement
        raises asyncpg's error, and nothing of any batch is written.
        """
        if len(batches) == 1:  # a lone append: fetchrow costs less Python than fetchmany
            variant = _variant(batches[0])
            arguments = self._arguments(variant)(_params(batches[0]))
            return [await raw.fetchrow(self._positional(variant)[0], *arguments)]
        # Runs of consecutive batches of one shape, in arrival order, so each statement sees
        # every batch that came before it.
        runs = [
            [index for index, _ in run]
            for _, run in groupby(enumerate(batches), key=lambda item: _variant(item[1]))
        ]
        rows: dict[int, Mapping[str, Any]] = {}

        async def run_all() -> None:
            for indexes in runs:
                variant = _variant(batches[indexes[0]])
                arguments = self._arguments(variant)
                args = [arguments(_params(batches[i])) for i in indexes]
                sql = self._positional(variant)[0]
                rows.update(zip(indexes, await raw.fetchmany(sql, args), strict=True))

        if len(runs) == 1:
            await run_all()
        else:
            async with raw.transaction():
                await run_all()
        return [rows[index] for index in range(len(batches))]

    async def settle(
        self, conn: AsyncConnection, batch: AppendBatch, row: Mapping[Any, Any]
    ) -> Appended | Duplicate:
        """What the statement's result ``row`` means for ``batch``.

        Raises ``ConcurrencyConflict`` when the stream was not at the expected version.
        """
        written = self.written(batch, row)
        if written is not None:
            return written
        refusal = self.plain_conflict(batch, row)
        if refusal is not None:
            raise refusal
        if row["seen"]:
            return Duplicate()
        # The stream step wrote nothing: a version conflict, or a retry that raced its first.
        if batch.command_id is not None and await self._reader.logged_command(
            conn, batch.command_id
        ):
            return Duplicate()  # a concurrent retry of the same command got there first
        # The version the statement saw, unless a write it waited for had moved it since.
        actual = row["current"] or 0
        if actual == batch.expected_version:
            actual = await self._reader.version(conn, batch.stream_id)
        raise ConcurrencyConflict(batch.stream_id, batch.expected_version, actual)

    @staticmethod
    def written(batch: AppendBatch, row: Mapping[Any, Any]) -> Appended | None:
        """What was written for ``batch``, if its statement wrote (answered without a read);
        None for a retried command or a version conflict."""
        if row["seen"] or row["version"] is None:
            return None
        if row["appended"] != batch.count:  # pragma: no cover - would be a bug in the SQL
            raise RuntimeError(f"appended {row['appended']} of {batch.count} events")
        return Appended(version=row["version"], first_position=row["position"] - batch.count + 1)

    @staticmethod
    def plain_conflict(
        batch: AppendBatch, row: Mapping[Any, Any]
    ) -> ConcurrencyConflict | StreamOfAnotherTenant | None:
        """Why ``row`` shows that ``batch`` wrote nothing, when no read is needed to tell: the
        stream is another tenant's, or a version conflict; None when the statement wrote, or
        when only a read can tell (a retried command, or a stream found at the very version
        expected: a write the statement waited for)."""
        if row["seen"] or row["version"] is not None:
            return None
        if row["owner"] is not None and row["owner"] != batch.tenant:
            return StreamOfAnotherTenant(batch.stream_id, batch.tenant)
        if batch.command_id is not None:
            return None
        actual = row["current"] or 0
        if actual == batch.expected_version:
            return None
        return ConcurrencyConflict(batch.stream_id, batch.expected_version, actual)

    def _numbered(self, variant: _Variant) -> tuple[str, tuple[str, ...]]:
        """The statement in asyncpg's ``$n`` style, with the parameter names in order."""
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        return _NAMED.sub(number, self._sql(variant)), tuple(names)

    def _build(self, variant: _Variant) -> str:
        parts = [_SEEN, _STREAM, _COMMAND, _HEAD_AND_EVENTS]
        if variant.outbox:
            parts.append(_OUTBOX_PER_APPEND if variant.row_per_append else _OUTBOX_PER_EVENT)
            parts.append(_WAKE)
        result = _RESULT.format(
            woken="(SELECT count(*) FROM wake)" if variant.outbox else "0",
            streams=self._names["streams"],
        )
        return "WITH " + ",\n".join(part.format(**self._names) for part in parts) + "\n" + result


def _variant(batch: AppendBatch) -> _Variant:
    outbox = batch.outbox
    return _Variant(outbox is not None, outbox is not None and outbox.row_per_append)


def _params(batch: AppendBatch) -> dict[str, Any]:
    outbox = batch.outbox
    params: dict[str, Any] = {
        "stream_id": batch.stream_id,
        "stream_type": batch.stream_type,
        "tenant": batch.tenant,
        "n": batch.count,
        "now": batch.recorded_at,
        "correlation_id": batch.correlation_id,
        "causation_id": batch.causation_id,
        "command_id": batch.command_id,
        "fingerprint": batch.command_fingerprint,
        "traceparent": batch.traceparent,
        "tracestate": batch.tracestate,
        "event_ids": [event.event_id for event in batch.events],
        "types": [event.type for event in batch.events],
        "schema_versions": [event.schema_version for event in batch.events],
        "datas": [event.data_json for event in batch.events],
    }
    params["expected"] = batch.expected_version
    if outbox is not None:
        params.update(topic=outbox.topic, outbox_at=outbox.created_at)
    return params
