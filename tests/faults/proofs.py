"""What must hold after the storm, proven from the stores and the receivers, never from logs.

- no accepted command lost: every 2xx answer's events are in the case store, at the version
  answered, and a refused command left nothing;
- no event missing downstream: every consumer's inbox holds exactly the events of its topics it
  wants, and nobody dead-lettered anything;
- nothing doubled: one audit entry per source (and the chain verifies), one deadline event per
  obligation stage, one delivery per recipient and channel, one copy per delivery at the
  receivers (a copy more only where a send was cut off by a crash: the documented
  at-least-once window, which the receivers drop by delivery id).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from naervaer.dossier.layout import event_source_id

from .client import Answered, Client, Ledger
from .receivers import Copies
from .stores import Consumer, Stores, TopicEvent
from .workload import HR

SENT, FAILED = "sent", "failed"
SETTLED = (SENT, FAILED, "cancelled")
ABANDONED = "abandoned"


@dataclass
class Figures:
    """The counts the suite prints at the end, in the order they were added."""

    values: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: int) -> None:
        self.values[name] = self.values.get(name, 0) + value

    @contextlib.contextmanager
    def timed(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(name, round(time.monotonic() - started))

    def lines(self) -> list[str]:
        width = max((len(name) for name in self.values), default=0)
        return [f"  {name:<{width}}  {value:>7}" for name, value in self.values.items()]

    def summary(self) -> list[str]:
        """The lines, closed by the total of every ``duplicates:`` figure (which must be 0)."""
        doubled = sum(v for name, v in self.values.items() if name.startswith("duplicates:"))
        self.add("duplicates found (total)", doubled)
        return self.lines()


def command_id(tenant: str, answered: Answered) -> str:
    """The case service's id of a command: a hash of tenant, caller, route, Idempotency-Key
    (hashed because the caller and the path may name the employee)."""
    c = answered.command
    named = "\0".join((tenant, c.by.subject, f"{c.method} {c.path}", c.key))
    return "cmd:" + hashlib.sha256(named.encode()).hexdigest()


async def prove_commands(stores: Stores, ledger: Ledger, tenant: str, figures: Figures) -> None:
    """Every 2xx answer's events are in the case store as answered; a 4xx left nothing."""
    events = stores.specs["case"].event_store
    assert events is not None
    table = events.events
    query = select(table.c.command_id, table.c.stream_id, table.c.stream_version)
    rows = await stores.rows("case", query.where(table.c.command_id.is_not(None)))
    written: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        written[row.command_id].append((row.stream_id, row.stream_version))
    case_answers = [a for a in ledger.answered if a.command.service == "case"]
    lost = [a for a in case_answers if 200 <= a.status < 300 and not _holds(written, tenant, a)]
    assert not lost, f"accepted commands whose events are not as answered: {lost[:5]}"
    leaked = [a for a in case_answers if a.status >= 400 and command_id(tenant, a) in written]
    assert not leaked, f"refused commands that wrote events: {leaked[:5]}"
    figures.add("commands accepted (2xx)", sum(1 for a in case_answers if 200 <= a.status < 300))
    figures.add("events of accepted commands found", len(rows))


def _holds(written: dict[str, list[tuple[str, int]]], tenant: str, answered: Answered) -> bool:
    """The command's events are one unbroken run on the answered case, ending at the version
    the answer named."""
    found = sorted(written.get(command_id(tenant, answered), []), key=lambda sv: sv[1])
    if not found:
        return False
    versions = [version for _stream, version in found]
    streams = {stream for stream, _version in found}
    contiguous = versions == list(range(versions[0], versions[0] + len(versions)))
    body = answered.body
    return contiguous and streams == {body["case_id"]} and versions[-1] == body["version"]


async def consumer_gaps(
    stores: Stores, consumers: Iterable[Consumer], figures: Figures | None = None
) -> list[str]:
    """What each consumer's inbox lacks (or holds that no producer sent); [] when complete."""
    gaps: list[str] = []
    topics: dict[str, list[TopicEvent]] = {}
    for consumer in consumers:
        subscription = consumer.subscription
        for topic in subscription.topics:
            if topic not in topics:
                topics[topic] = await stores.topic_events(topic)
        sent = [e for topic in subscription.topics for e in topics[topic]]
        wanted = {e.event_id for e in sent if subscription.wants(e.type)}
        inbox = stores.table(consumer.service, "inbox")
        query = select(inbox.c.event_id).where(inbox.c.consumer == subscription.name)
        got = {row.event_id for row in await stores.rows(consumer.service, query)}
        if missing := wanted - got:
            gaps.append(f"{subscription.name} lacks {len(missing)} of {len(wanted)} events")
        if stray := got - {e.event_id for e in sent}:
            gaps.append(f"{subscription.name} holds {len(stray)} events nobody published")
        if figures is not None:
            figures.add("consumer deliveries checked (inbox = topic)", len(wanted))
    return gaps


async def prove_caught_messages_once(
    stores: Stores, consumers: Iterable[Consumer], caught: list[tuple[str, str]], figures: Figures
) -> None:
    """Each message a consumer died on between its commit and its ack is in that consumer's
    inbox: handled once, and its redelivery (counted as a duplicate by the restarted service,
    see ``faults``) changed nothing."""
    services = {c.subscription.name: c.service for c in consumers}
    for consumer, event_id in caught:
        inbox = stores.table(services[consumer], "inbox")
        query = select(func.count()).where(
            inbox.c.consumer == consumer, inbox.c.event_id == uuid.UUID(event_id)
        )
        assert await stores.scalar(services[consumer], query) == 1, (consumer, event_id)
    figures.add("messages caught between commit and ack, handled once", len(caught))


async def prove_no_dead_letters(stores: Stores, figures: Figures) -> None:
    """No consumer gave up on any message (an outage must never look like a poison message)."""
    for key, spec in stores.specs.items():
        if spec.consumer_tables is not None:
            dead = await stores.scalar(
                key, select(func.count()).select_from(spec.consumer_tables.dead_letters)
            )
            assert dead == 0, f"{spec.name} dead-lettered {dead} messages"
    figures.add("dead letters", 0)


async def prove_audit_trail(stores: Stores, client: Client, figures: Figures) -> None:
    """One audit entry (revisjonsspor) per case event and access record; the chain verifies."""
    prefix = stores.settings.topic_prefix
    recorded = [
        *(await stores.topic_events(f"{prefix}case-events")),
        *(await stores.topic_events(f"{prefix}access-events")),
    ]
    entries = stores.table("document", "audit_entries")
    per_source = func.count().label("entries")
    query = select(entries.c.source_id, per_source).group_by(entries.c.source_id)
    counts = {row.source_id: row.entries for row in await stores.rows("document", query)}
    doubled = [source for source, n in counts.items() if n > 1]
    missing = [e for e in recorded if event_source_id(str(e.event_id)) not in counts]
    assert not missing, f"{len(missing)} events without an audit entry, e.g. {missing[:3]}"
    assert not doubled, f"audit entries doubled: {doubled[:5]}"
    verdict = await client.get("document", "/v1/audit/verify", by=HR)
    assert verdict["ok"], verdict
    assert verdict["problems"] == [], verdict
    figures.add("audit entries (chain verified)", verdict["entries_checked"])
    figures.add("duplicates: audit entries", len(doubled))


async def prove_reminders_once(stores: Stores, figures: Figures) -> None:
    """One deadline event (fristvarsel) per case, obligation, stage and due date."""
    spec = stores.specs["deadline"]
    assert spec.event_store is not None
    events = spec.event_store.events
    query = select(events.c.data).where(events.c.type.startswith("deadline."))
    notices = Counter(
        (d["case_id"], d["kind"], d["stage"], d["due_date"])
        for (d,) in await stores.rows("deadline", query)
    )
    doubled = {notice: n for notice, n in notices.items() if n > 1}
    assert not doubled, f"deadline events emitted more than once: {doubled}"
    figures.add("deadline events (reminders)", sum(notices.values()))
    figures.add("duplicates: deadline events", len(doubled))


async def prove_received_once(
    stores: Stores, received: dict[str, Copies], figures: Figures
) -> None:
    """Every sent email and webhook arrived; a second copy only after a cut-off send."""
    deliveries = stores.table("notification", "deliveries")
    attempts = stores.table("notification", "delivery_attempts")
    rows = await stores.rows(
        "notification", select(deliveries.c.id, deliveries.c.channel, deliveries.c.status)
    )
    failed = [row for row in rows if row.status == FAILED]
    assert not failed, f"deliveries that failed: {failed[:5]}"
    # a claim after the lease ran out closes the dead worker's attempt as abandoned
    cut_off_query = select(attempts.c.delivery_id).where(
        attempts.c.outcome.is_(None) | (attempts.c.outcome == ABANDONED)
    )
    cut_off = {str(row.delivery_id) for row in await stores.rows("notification", cut_off_query)}
    resent, doubled = 0, []
    for channel, copies in received.items():
        counts = copies.counts()
        sent = {str(row.id) for row in rows if row.channel == channel and row.status == SENT}
        assert sent <= set(counts), f"{channel}: sent but never received {sent - set(counts)}"
        assert set(counts) <= sent, f"{channel}: received but not sent {set(counts) - sent}"
        extra = {delivery: n - 1 for delivery, n in counts.items() if n > 1}
        resent += sum(n for delivery, n in extra.items() if delivery in cut_off)
        doubled += [delivery for delivery in extra if delivery not in cut_off]
        figures.add(f"messages received ({channel})", len(counts))
    assert not doubled, f"messages received twice without a cut-off send: {doubled}"
    figures.add("deliveries (one per recipient, stage, channel)", len(rows))
    figures.add("copies re-sent after a send cut off by a crash", resent)
    figures.add("duplicates: deliveries and messages", len(doubled))


async def settled(stores: Stores, consumers: list[Consumer], now: datetime) -> str | None:
    """Why the system is not quiet yet (None once it is): unpublished outbox rows, consumers
    behind, deliveries due but not settled."""
    if pending := {k: n for k, n in (await stores.pending_outbox()).items() if n}:
        return f"outbox rows not yet published: {pending}"
    if gaps := await consumer_gaps(stores, consumers):
        return "; ".join(gaps)
    deliveries = stores.table("notification", "deliveries")
    busy = select(func.count()).where(
        deliveries.c.status.not_in(SETTLED), deliveries.c.send_after <= now
    )
    if due := await stores.scalar("notification", busy):
        return f"{due} deliveries due and not yet sent"
    return None
