"""Fault injection (issue 9): the four services as separate processes on PostgreSQL and a
Kafka-protocol broker, under a steady stream of commands through the REST APIs, while the broker,
PostgreSQL, each service and a consumer between its commit and its ack are SIGKILLed in turn.

Afterwards, from the stores and the receivers: no accepted command lost, no event missing
downstream, nothing doubled, every projection equal to its rebuild. The size is set by
``NAERVAER_FAULTS_COMMANDS`` (README, "Fault-injection suite").
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable

import pytest

from naervaer.clock import ControlledClock
from naervaer.settings import PlatformSettings
from naervaer.testing.processes import ServiceProcesses

from .client import Client, TokenSource
from .conftest import TENANT, commands_wanted
from .faults import Injector
from .infra import CrashablePostgres, DurableBroker
from .proofs import (
    Figures,
    consumer_gaps,
    prove_audit_trail,
    prove_caught_messages_once,
    prove_commands,
    prove_no_dead_letters,
    prove_received_once,
    prove_reminders_once,
    settled,
)
from .rebuild import rebuilds_equal_live
from .receivers import SmtpServer, WebhookReceiver
from .stores import Consumer, Stores
from .storm import Storm
from .workload import COMMANDS_PER_CASE, Workload, set_up_tenant, stories

CI_COMMANDS = 300
"""The default, sized for CI (one round of faults); the full run is 3000 (ten rounds)."""
COMMANDS_PER_ROUND = 300
COMMANDS = commands_wanted(CI_COMMANDS)
ROUNDS = max(1, COMMANDS // COMMANDS_PER_ROUND)
WORKERS = 6
pytestmark = [
    pytest.mark.integration,
    # A busy 2-core machine needs up to about four minutes a round; the default is 300 s.
    pytest.mark.timeout(300 + 240 * ROUNDS),
]
SETTLE_TIMEOUT_S = 120.0
FIRST_CRASHED = "document-service.case-events"
"""The consumer killed before its ack in the first round: the audit trail, which must never
hold an entry twice; later rounds take the other consumers in turn."""


async def test_nothing_accepted_is_lost_or_doubled_while_everything_crashes(
    system: ServiceProcesses,
    settings: PlatformSettings,
    stores: Stores,
    consumers: list[Consumer],
    tokens: TokenSource,
    postgres: CrashablePostgres,
    broker: DurableBroker,
    smtp: SmtpServer,
    webhooks: WebhookReceiver,
    started: float,
    report: Callable[[list[str]], None],
) -> None:
    figures = Figures()
    figures.add("seconds: starting the system", round(time.monotonic() - started))
    clock = ControlledClock(settings.data_dir / "clock.json")
    count = max(1, COMMANDS // COMMANDS_PER_CASE)
    cases = stories(uuid.uuid4().hex[:6], count, clock.now().date())
    try:
        async with Client.over_http(system.base_urls, tokens) as client:
            await set_up_tenant(client, cases, (webhooks.url, webhooks.secret))
            setup = client.ledger.sent
            workload = Workload(client, cases, WORKERS)
            injector = Injector(system, postgres, broker, stores, client.ledger, workload.pacer)
            with figures.timed("seconds: commands and faults"):
                await storm(workload, injector, consumers)
            stream_figures(figures, client, setup, injector)
            with figures.timed("seconds: until settled"):
                await until_settled(stores, consumers, clock)
            with figures.timed("seconds: proofs"):
                await prove_commands(stores, client.ledger, TENANT, figures)
                assert not await consumer_gaps(stores, consumers, figures)
                caught = injector.caught_before_ack
                await prove_caught_messages_once(stores, consumers, caught, figures)
                await prove_no_dead_letters(stores, figures)
                await prove_audit_trail(stores, client, figures)
                await prove_reminders_once(stores, figures)
                received = {"email": smtp.copies, "webhook": webhooks.copies}
                await prove_received_once(stores, received, figures)
            with figures.timed("seconds: rebuilds"):
                rows = await rebuilds_equal_live(system, stores)
            figures.add("projection rows equal to a rebuild", rows)
    except BaseException as error:
        report(figures.lines())
        error.add_note("figures so far:\n" + "\n".join(figures.lines()))
        error.add_note(f"service logs:\n{system.tails(60)}")
        raise
    figures.add("seconds: in all", round(time.monotonic() - started))
    report(figures.summary())


async def storm(workload: Workload, injector: Injector, consumers: list[Consumer]) -> None:
    """One round of faults per ``COMMANDS_PER_ROUND`` commands, all while they flow."""
    faults = injector.schedule(ROUNDS, crash_order(consumers))
    try:
        await Storm(workload, injector, faults).run()
    except BaseException as error:
        done = ", ".join(f"{name} ({seconds:.0f} s)" for name, seconds in injector.injected)
        error.add_note(f"faults injected: {done or 'none'}; commands sent: {workload.pacer.sent}")
        raise
    assert not workload.problems, workload.problems[:10]


def crash_order(consumers: list[Consumer]) -> list[tuple[str, str]]:
    """Which consumer dies before its ack in each round: the audit trail first."""
    named = [(c.service, c.subscription.name) for c in consumers]
    return sorted(named, key=lambda pair: pair[1] != FIRST_CRASHED)


def stream_figures(figures: Figures, client: Client, setup: int, injector: Injector) -> None:
    ledger = client.ledger
    figures.add("commands sent", ledger.sent - setup)
    figures.add("HTTP attempts (with retries)", ledger.attempts)
    for cause, count in sorted(ledger.retries_by_cause.items()):
        figures.add(f"retries after {cause}", count)
    figures.add("commands refused (4xx)", len(ledger.refused))
    figures.add("commands given up on", len(ledger.gave_up))
    figures.add("faults injected", len(injector.injected))
    for name, seconds in injector.injected:
        figures.add(f"  {name}: seconds until all ready", round(seconds))


async def until_settled(stores: Stores, consumers: list[Consumer], clock: ControlledClock) -> None:
    """Poll until the outboxes are empty, every consumer has caught up and no delivery that is
    due is still unsent; fail naming what is still moving after the deadline."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while (busy := await settled(stores, consumers, clock.now())) is not None:
        assert time.monotonic() < deadline, f"not settled after {SETTLE_TIMEOUT_S} s: {busy}"
        await asyncio.sleep(0.2)
