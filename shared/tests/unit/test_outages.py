"""What counts as an outage (a database out of reach) and what as a failure of the request or
the message itself: the API answers 503 to the first and 500 to the second; a consumer restarts
on the first when its database indeed does not answer."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import exc as sa_exc

from naervaer.outages import is_outage


def _wrapped(orig: Exception) -> sa_exc.DBAPIError:
    """As SQLAlchemy raises a driver error: a DBAPIError whose ``orig`` was raised from it."""
    try:
        raise RuntimeError("dbapi adapter error") from orig
    except RuntimeError as adapted:
        return sa_exc.DBAPIError("SELECT 1", {}, adapted)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError("connection reset by peer"),
        _wrapped(asyncpg.CannotConnectNowError("the database system is starting up")),
        _wrapped(asyncpg.CrashShutdownError("terminating connection: crash of another server")),
        _wrapped(asyncpg.ConnectionDoesNotExistError("connection was closed mid-operation")),
        sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        sa_exc.TimeoutError("QueuePool limit reached, connection timed out"),
        sa_exc.DBAPIError("SELECT 1", {}, Exception("lost"), connection_invalidated=True),
    ],
)
def test_an_unreachable_database_is_an_outage(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("cannot handle this payload"),
        _wrapped(asyncpg.UniqueViolationError("duplicate key value")),
        sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key value")),
    ],
)
def test_a_failing_statement_or_handler_is_not(error: Exception) -> None:
    assert not is_outage(error)
