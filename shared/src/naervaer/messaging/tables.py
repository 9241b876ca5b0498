"""Tables every consumer keeps in its own database: inbox, checkpoints and dead letters.

The inbox row (mottakslogg) is written in the same transaction as the handler's effects, so a
redelivered event is recognised and skipped: at-least-once delivery, exactly-once effect.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
)


@dataclass(frozen=True)
class ConsumerTables:
    """The consumer framework's tables, bound to one service's ``MetaData``."""

    inbox: Table
    checkpoints: Table
    dead_letters: Table


def consumer_tables(metadata: MetaData) -> ConsumerTables:
    """Define (or return the already defined) consumer tables on ``metadata``."""
    if "inbox" in metadata.tables:
        tables = metadata.tables
        return ConsumerTables(tables["inbox"], tables["checkpoints"], tables["dead_letters"])
    return ConsumerTables(_inbox(metadata), _checkpoints(metadata), _dead_letters(metadata))


def _inbox(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("handled_at", DateTime(timezone=True), nullable=False),
    )


def _checkpoints(metadata: MetaData) -> Table:
    # Embedded transport only: how far a consumer has read a producing store's log (per topic).
    return Table(
        "checkpoints",
        metadata,
        Column("consumer", Text, primary_key=True),
        Column("source", Text, primary_key=True),
        Column("position", BigInteger, nullable=False),
    )


def _dead_letters(metadata: MetaData) -> Table:
    table = Table(
        "dead_letters",
        metadata,
        # SQLite autoincrements only an INTEGER primary key.
        Column(
            "id",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("consumer", Text, nullable=False),
        Column("event_id", Uuid, nullable=True),
        Column("event_type", Text, nullable=True),
        Column("topic", Text, nullable=False),
        Column("partition", Integer, nullable=True),
        Column("offset", BigInteger, nullable=True),
        Column("position", BigInteger, nullable=True),
        Column("attempts", Integer, nullable=False),
        Column("error", Text, nullable=False),
        Column("key", LargeBinary, nullable=True),
        Column("payload", LargeBinary, nullable=False),
        Column("failed_at", DateTime(timezone=True), nullable=False),
    )
    Index("ix_dead_letters_consumer_failed_at", table.c.consumer, table.c.failed_at)
    return table
