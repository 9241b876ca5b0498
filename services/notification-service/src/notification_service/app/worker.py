"""The delivery worker (utsendelse): claims due deliveries one by one, sends, records.

Per attempt: commit 'sending' + a fresh attempt id, call the channel, commit the outcome.
A crash between the channel's success and the last commit leaves the delivery 'sending';
when its lease runs out it is tried again. That is the one at-least-once window left: the
repeat carries the same Message-ID / X-Naervaer-Delivery-Id / SMS reference, so receivers
can drop it. Everything else (redelivered events, restarts, concurrent replicas) cannot
produce a second message.

Nothing is sent about an erased case: a delivery whose case is tombstoned, or whose employee
key is destroyed (the case service shreds it before it announces the erasure), is deleted
unsent. Checked at each attempt, just before the message is composed and sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.clock import Clock
from naervaer.privacy import KeySource
from notification_service.adapters import deliveries, erasure
from notification_service.adapters.channels.base import DeliveryFailed, Sender
from notification_service.adapters.deliveries import Claim
from notification_service.app.compose import Composer
from notification_service.domain.retry import RetryPolicy

log = structlog.get_logger(__name__)

ATTEMPTS = Counter(
    "naervaer_notification_attempts_total",
    "Delivery attempts by channel and outcome (sent, retry, failed).",
    ["channel", "outcome"],
)
DROPPED = Counter(
    "naervaer_notification_dropped_total",
    "Deliveries deleted unsent because their case's personal data was erased.",
)


@dataclass(frozen=True)
class WorkerTiming:
    poll_interval_s: float = 1.0
    lease_s: float = 300.0


class DeliveryWorker:
    def __init__(
        self,
        engine: AsyncEngine,
        clock: Clock,
        composer: Composer,
        senders: Mapping[str, Sender],
        retry: RetryPolicy,
        timing: WorkerTiming = WorkerTiming(),
        *,
        keys: KeySource,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self._engine = engine
        self._keys = keys
        self._clock = clock
        self._composer = composer
        self._senders = senders
        self._retry = retry
        self._timing = timing
        self._closers = closers

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; a failing database only slows the loop down."""
        try:
            while not stop.is_set():
                if not await self._step():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._timing.poll_interval_s)
        finally:
            for close in self._closers:
                await close()

    async def _step(self) -> bool:
        try:
            return await self.run_once()
        except Exception:
            log.exception("delivery worker failed; trying again")
            return False

    async def run_once(self) -> bool:
        """Claim and deliver one due delivery; False when nothing is due."""
        lease = timedelta(seconds=self._timing.lease_s)
        claim = await deliveries.claim_next(self._engine, self._clock.now(), lease)
        if claim is None:
            return False
        with structlog.contextvars.bound_contextvars(
            delivery_id=str(claim.id), channel=claim.channel, attempt=claim.attempt
        ):
            await self._deliver(claim)
        return True

    async def _deliver(self, claim: Claim) -> None:
        if claim.attempt > self._retry.max_attempts:  # crashed too often mid-send
            await self._settle(claim, "failed", f"gave up after {claim.attempt - 1} attempts")
            return
        try:
            # Finish well inside the lease, so no other worker takes over a live attempt.
            async with asyncio.timeout(self._timing.lease_s * 0.8):
                if await self._erased(claim):
                    await self._drop(claim)
                    return
                outgoing = await self._composer.compose(claim)
                await self._senders[claim.channel].send(outgoing)
        except DeliveryFailed as failure:
            await self._failed(claim, failure.reason, permanent=failure.permanent)
        except Exception as error:  # a bug or a timeout: worth another try, within limits
            log.exception("delivery attempt failed unexpectedly")
            await self._failed(claim, f"{type(error).__name__}: {error}", permanent=False)
        else:
            await self._settle(claim, "sent", subject=outgoing.message.subject)

    async def _erased(self, claim: Claim) -> bool:
        """Whether the delivery's case was erased: its key destroyed, or its case tombstoned."""
        if claim.key_id is not None:
            keys = await self._keys.keys([claim.key_id])
            if keys.get(claim.key_id) is None:
                return True
        if claim.case_id is None:
            return False
        async with self._engine.connect() as tx:
            return await erasure.is_erased(tx, claim.tenant, claim.case_id)

    async def _drop(self, claim: Claim) -> None:
        dropped = await deliveries.drop(self._engine, claim)
        DROPPED.inc()
        log.info("delivery about an erased case dropped unsent", dropped=dropped)

    async def _failed(self, claim: Claim, reason: str, *, permanent: bool) -> None:
        if permanent or self._retry.gives_up_after(claim.attempt):
            why = reason if permanent else f"gave up after {claim.attempt} attempts: {reason}"
            await self._settle(claim, "failed", why)
            return
        retry_at = self._clock.now() + timedelta(seconds=self._retry.delay_s(claim.attempt))
        await self._settle(claim, "retry", reason, retry_at)

    async def _settle(
        self,
        claim: Claim,
        outcome: deliveries.Outcome,
        error: str | None = None,
        retry_at: datetime | None = None,
        *,
        subject: str | None = None,
    ) -> None:
        now = self._clock.now()
        owned = await deliveries.finish(
            self._engine, claim, outcome, now=now, error=error, retry_at=retry_at, subject=subject
        )
        ATTEMPTS.labels(claim.channel, outcome).inc()
        log.info("delivery attempt", outcome=outcome, error=error, owned=owned)
        if not owned:
            log.warning("delivery was taken over by another worker after the lease ran out")
