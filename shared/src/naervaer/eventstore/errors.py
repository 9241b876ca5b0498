"""Errors raised by the event store."""

from __future__ import annotations


class ConcurrencyConflict(Exception):
    """The stream was not at the expected version: another writer got there first.

    Nothing of the append was written. The caller reloads the stream and decides again
    (optimistic concurrency, the usual answer being an HTTP 409 or a retry of the command).
    """

    def __init__(self, stream_id: str, expected_version: int | None, actual_version: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual_version}, expected {expected_version}"
        )
        self.stream_id = stream_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class StreamOfAnotherTenant(Exception):
    """The stream belongs to another tenant than the append's: nothing was written.

    Stream ids are made so that this never happens (case ids are unique, employee streams are
    named by tenant); an append that meets it is a bug or a forged id, and the store refuses
    it rather than mix one employer's events into another's stream. To the caller the stream
    does not exist (an HTTP 404).
    """

    def __init__(self, stream_id: str, tenant: str) -> None:
        super().__init__(f"stream {stream_id!r} is not tenant {tenant!r}'s")
        self.stream_id = stream_id
        self.tenant = tenant


class IdempotencyKeyReused(Exception):
    """A command id seen before arrived with a different request fingerprint.

    The same ``Idempotency-Key`` was sent with another body: it is not a retry but a new request
    that reuses the key. Nothing was written; the caller answers 422 and asks for a new key.
    """

    def __init__(self, command_id: str) -> None:
        super().__init__(f"command {command_id!r} was first recorded with another fingerprint")
        self.command_id = command_id
