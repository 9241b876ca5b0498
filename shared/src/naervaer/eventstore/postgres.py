"""PostgreSQL write path: one statement per append, built from data-modifying CTEs.

The statement logs the command, moves the stream version (the optimistic-concurrency check),
takes the ``event_log_head`` row lock and advances it, inserts the events from ``unnest``
arrays, inserts the outbox rows and queues a NOTIFY, in that order. Each step feeds the next,
so a duplicate command or a version mismatch makes the rest insert nothing; the final SELECT
tells which happened. The head row lock is held until commit: positions are therefore handed
out in commit order, and a reader that has seen position p never later sees a smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Dialect, TextClause, text
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.eventstore.backend import Appended, Duplicate
from naervaer.eventstore.errors import ConcurrencyConflict
from naervaer.eventstore.model import AppendBatch
from naervaer.eventstore.reading import EventReader
from naervaer.eventstore.tables import EventStoreTables

NOTIFY_CHANNEL = "naervaer_outbox"

_COMMAND = """cmd AS (
    INSERT INTO {command_log} (command_id, stream_id, recorded_at, fingerprint)
    VALUES (CAST(:command_id AS text), CAST(:stream_id AS text), CAST(:now AS timestamptz),
            CAST(:fingerprint AS text))
    ON CONFLICT (command_id) DO NOTHING
    RETURNING command_id
), go AS (SELECT 1 FROM cmd)"""

_STREAM_INSERT = """stream AS (
    INSERT INTO {streams} (stream_id, stream_type, tenant, version, created_at, updated_at)
    SELECT CAST(:stream_id AS text), CAST(:stream_type AS text), CAST(:tenant AS text),
           CAST(:n AS integer), CAST(:now AS timestamptz), CAST(:now AS timestamptz) {from_go}
    ON CONFLICT (stream_id) DO {on_conflict}
    RETURNING version
)"""
_STREAM_ANY = (
    "UPDATE SET version = {streams}.version + EXCLUDED.version, updated_at = EXCLUDED.updated_at"
)
_STREAM_UPDATE = """stream AS (
    UPDATE {streams} SET version = version + CAST(:n AS integer),
                         updated_at = CAST(:now AS timestamptz)
    WHERE stream_id = CAST(:stream_id AS text) AND version = CAST(:expected AS integer) {and_go}
    RETURNING version
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

_OUTBOX = """ob AS (
    INSERT INTO {outbox} (global_position, topic, message_key, created_at)
    SELECT global_position, CAST(:topic AS text), CAST(:stream_id AS text),
           CAST(:outbox_at AS timestamptz)
    FROM ev
    RETURNING global_position
), wake AS (
    SELECT pg_notify('{channel}', coalesce(current_schema(), ''))
    FROM (SELECT 1 FROM ob LIMIT 1) AS written
)"""

_RESULT = """SELECT (SELECT count(*) FROM {logged}) AS logged,
       (SELECT version FROM stream) AS version,
       (SELECT position FROM head) AS position,
       (SELECT count(*) FROM ev) AS appended,
       {woken} AS woken"""


@dataclass(frozen=True)
class _Variant:
    """Which statement shape an append needs (each shape is built once, then cached)."""

    expected: str  # "any", "new" or "exact"
    command: bool
    outbox: bool


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
        self._statement = cache(self._build)

    async def append(self, conn: AsyncConnection, batch: AppendBatch) -> Appended | Duplicate:
        statement = self._statement(_variant(batch))
        row = (await conn.execute(statement, _params(batch))).mappings().one()
        if batch.command_id is not None and row["logged"] == 0:
            return Duplicate()
        if row["version"] is None:
            actual = await self._reader.version(conn, batch.stream_id)
            raise ConcurrencyConflict(batch.stream_id, batch.expected_version, actual)
        if row["appended"] != batch.count:  # pragma: no cover - would be a bug in the SQL
            raise RuntimeError(f"appended {row['appended']} of {batch.count} events")
        return Appended(version=row["version"], first_position=row["position"] - batch.count + 1)

    def _build(self, variant: _Variant) -> TextClause:
        parts = [_COMMAND] if variant.command else []
        parts.append(_stream_cte(variant))
        parts.append(_HEAD_AND_EVENTS)
        if variant.outbox:
            parts.append(_OUTBOX)
        result = _RESULT.format(
            logged="cmd" if variant.command else "(SELECT 1) AS no_command",
            woken="(SELECT count(*) FROM wake)" if variant.outbox else "0",
        )
        sql = "WITH " + ",\n".join(part.format(**self._names) for part in parts) + "\n" + result
        return text(sql)


def _variant(batch: AppendBatch) -> _Variant:
    if batch.expected_version is None:
        expected = "any"
    elif batch.expected_version == 0:
        expected = "new"
    else:
        expected = "exact"
    return _Variant(expected, batch.command_id is not None, batch.outbox is not None)


def _stream_cte(variant: _Variant) -> str:
    """The optimistic-concurrency step: returns the new version, or no row on a mismatch."""
    if variant.expected == "exact":
        and_go = "AND EXISTS (SELECT 1 FROM go)" if variant.command else ""
        return _STREAM_UPDATE.replace("{and_go}", and_go)
    on_conflict = "NOTHING" if variant.expected == "new" else _STREAM_ANY
    from_go = "FROM go" if variant.command else ""
    return _STREAM_INSERT.replace("{on_conflict}", on_conflict).replace("{from_go}", from_go)


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
    if batch.expected_version:
        params["expected"] = batch.expected_version
    if outbox is not None:
        params.update(topic=outbox.topic, outbox_at=outbox.created_at)
    return params
