"""Claiming inbox rows (mottakslogg, issue 8): what was claimed is refused, one event or a batch
of any size, on both databases; on PostgreSQL a batch's INSERT is one statement (one SQL text,
compiled and prepared once) whatever its size, and both go on the driver."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from naervaer.messaging.inbox import claim, claim_many
from naervaer.testing.statements import statements_sent, through_sqlalchemy

if TYPE_CHECKING:
    from shared.tests.messaging.kits import Db

pytestmark = pytest.mark.integration

SIZES = (1, 3, 8, 21)


@pytest.fixture(params=["sqlite_db", "pg_db"])
def db(request: pytest.FixtureRequest) -> Db:
    found: Db = request.getfixturevalue(request.param)
    return found


@contextmanager
def inserts(db: Db) -> Iterator[list[str]]:
    """The INSERT statements ``db``'s engine sends meanwhile, through SQLAlchemy or on the
    driver (``naervaer.on_driver``)."""
    with statements_sent(db.engine) as sent:
        yield sent
    sent[:] = [sql for sql in sent if sql.lstrip().upper().startswith("INSERT")]


async def _claim_batches(db: Db) -> list[str]:
    """Claim batches of each size, each half new and half claimed before (by this consumer,
    or by another, which does not count); check the new ones only are granted."""
    mine, theirs = [uuid.uuid4() for _ in range(30)], [uuid.uuid4() for _ in range(30)]
    async with db.engine.begin() as tx:
        assert await claim_many(tx, db.tables, "mine", mine) == set(mine)
        assert await claim_many(tx, db.tables, "theirs", theirs) == set(theirs)
    with inserts(db) as sent:
        for size in SIZES:
            new = [uuid.uuid4() for _ in range(size - size // 2)]
            batch = new + mine[: size // 2]
            async with db.engine.begin() as tx:
                assert await claim_many(tx, db.tables, "mine", batch) == set(new)
            async with db.engine.begin() as tx:  # the same batch again: nothing is new
                assert await claim_many(tx, db.tables, "mine", batch) == set()
            async with db.engine.begin() as tx:
                assert await claim_many(tx, db.tables, "theirs", new) == set(new)
    expected = len(mine) + sum(size - size // 2 for size in SIZES)
    assert await db.count(db.tables.inbox, "mine") == expected
    return sent


async def test_claimed_events_are_refused_for_any_batch_size(db: Db) -> None:
    sent = await _claim_batches(db)
    assert len(sent) == 3 * len(SIZES)


async def test_an_empty_batch_claims_nothing_and_sends_nothing(db: Db) -> None:
    with inserts(db) as sent:
        async with db.engine.begin() as tx:
            assert await claim_many(tx, db.tables, "mine", []) == set()
    assert sent == []


async def test_a_batch_is_one_statement_for_any_size_on_postgresql(pg_db: Db) -> None:
    with through_sqlalchemy(pg_db.engine) as seen:
        sent = await _claim_batches(pg_db)
    assert len(sent) == 3 * len(SIZES)
    assert len(set(sent)) == 1, sent
    assert "unnest" in sent[0]
    # on the driver, each the first statement of its transaction (the count went through
    # SQLAlchemy)
    assert not [sql for sql in seen if "INSERT" in sql]


async def test_a_claimed_event_is_refused_to_its_consumer_alone(db: Db) -> None:
    """``claim``, the per-message way: on PostgreSQL on the driver as well."""
    event_id = uuid.uuid4()
    with through_sqlalchemy(db.engine) as seen, inserts(db) as sent:
        async with db.engine.begin() as tx:
            assert await claim(tx, db.tables, "mine", event_id) is True
        async with db.engine.begin() as tx:
            assert await claim(tx, db.tables, "mine", event_id) is False
        async with db.engine.begin() as tx:
            assert await claim(tx, db.tables, "theirs", event_id) is True
    assert await db.count(db.tables.inbox, "mine") == 1
    assert len(sent) == 3
    assert (seen == []) == (db.engine.dialect.name == "postgresql")


async def test_a_claim_rolled_back_with_its_transaction_can_be_claimed_again(db: Db) -> None:
    """A claim on the driver is part of its transaction: a handler that fails takes it back,
    so the redelivered event is handled, not skipped as a duplicate."""
    one, batch = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
    with contextlib.suppress(RuntimeError):
        async with db.engine.begin() as tx:
            assert await claim(tx, db.tables, "mine", one) is True
            assert await claim_many(tx, db.tables, "mine", batch) == set(batch)
            raise RuntimeError("the handler failed")
    assert await db.count(db.tables.inbox, "mine") == 0
    async with db.engine.begin() as tx:
        assert await claim(tx, db.tables, "mine", one) is True
        assert await claim_many(tx, db.tables, "mine", batch) == set(batch)
