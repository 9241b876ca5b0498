"""Telling an outage from a failure.

A database that refuses connections, is restarting or has crashed (or a pool with no connection
left) is worth waiting for: it is never the fault of the request or of the message at hand. The
API answers 503 with ``Retry-After`` instead of 500, so a client retries with the same
``Idempotency-Key``; a consumer whose database indeed does not answer restarts instead of
dead-lettering the message.

asyncpg raises a refused or reset connection as the bare ``OSError``, and SQLAlchemy wraps the
driver's errors (``orig``, ``raise … from``), so the whole chain is looked at.
"""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import exc as sa_exc

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable, timed out
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # the pool is exhausted
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.OperatorInterventionError,  # class 57: starting up, shutting down, crashed
    asyncpg.InterfaceError,  # e.g. the connection is closed
)


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` (or what it wraps) says a database or peer is out of reach."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return any(isinstance(cause, OUTAGE_ERRORS) for cause in _causes(error))


def _causes(error: BaseException, depth: int = 6) -> list[BaseException]:
    """``error`` and what it wraps: SQLAlchemy's ``orig``, and ``raise … from`` causes."""
    found: list[BaseException] = []
    pending = [error]
    while pending and len(found) < depth:
        current = pending.pop()
        found.append(current)
        pending += [
            cause
            for cause in (getattr(current, "orig", None), current.__cause__)
            if isinstance(cause, BaseException) and cause not in found
        ]
    return found
