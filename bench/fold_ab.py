"""The deadline timeline alone on W6's generated year: folded on from kept facts, or not.

``python -m bench.fold_ab --cases 20000`` stores the year's commands in a case store (8
writers, calendar order, as W6 does; not timed), then hands every event the timeline takes to
two live projections in batches of ``--batch`` events, each into a schema of its own: one
keeping no folded facts (every case folded from all of its stored events, as before the
thirteenth round), one keeping them (the default). The batches alternate between the two and
which goes first, so a slow minute of this shared machine falls on both alike. It prints the
CPU an event cost this process (the projection's Python and its database driver) for each,
overall and by tenth of the log (what grows with the size), and the CPU its database backend
spent meanwhile (read from ``/proc``, so only where the server runs on this machine, as the
one the tool starts does; fifteenth round: a change can move work to the server), and checks
that both wrote the same obligations and timers. No Kafka, no services: W6 without the
machine's noise around the one process under study (see BENCHMARKS.md, thirteenth round).
The timed part collects garbage as a serving process does (fourteenth round), and each
schema's tables are analysed as they grow, as the live ``Consumer`` has them analysed
(``naervaer.db.GrowingTables``; twenty-ninth round: without it, statements planned while the
tables were nearly empty scanned them whole for the rest of the run, which doubled its
database figures).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import gc
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.appender import CaseLog, bounded
from bench.cpu import process_cpu_s
from bench.year import Step, days, first_day
from case_service.bootstrap import SERVICE as CASE_SERVICE
from deadline_service.adapters.folded import DEFAULT_CAPACITY, FoldedCases
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.bootstrap import SERVICE as DEADLINE_SERVICE
from deadline_service.config import Policies
from naervaer.db import DatabaseTarget, GrowingTables, create_engine, normalise_url
from naervaer.envelope import Envelope
from naervaer.gc_tuning import collect_less_while_serving, freeze_start_up
from naervaer.migrations import upgrade
from naervaer.testing.servers import LocalPostgres

WRITERS = 8
TENTHS = 10
# What the two timelines wrote, to compare: counts and order-free checksums of the rows.
WRITTEN = (
    "SELECT count(*), coalesce(sum(hashtext(concat_ws('|', case_id, kind, due_date, state,"
    " fulfilled_by))), 0) FROM obligations",
    "SELECT count(*), coalesce(sum(hashtext(concat_ws('|', case_id, kind, stage, fire_on,"
    " fired_at))), 0) FROM timers",
)


class _Unsealed:
    """The generated year seals nothing: no key is ever asked for."""

    async def keys(self, key_ids: object) -> dict[str, bytes | None]:
        raise AssertionError(f"the generated year seals nothing, yet {key_ids} was asked")


@dataclass
class Variant:
    name: str
    engine: AsyncEngine
    projection: TimelineProjection
    folded: FoldedCases
    growing: GrowingTables
    cpu_s: float = 0.0
    tenths: list[float] = field(default_factory=lambda: [0.0] * TENTHS)
    server_s: float | None = 0.0  # its database backend's, None where it cannot be read

    async def apply(self, batch: list[Envelope]) -> float:
        """Handle the batch in one transaction; the CPU it cost this process (its backend's
        added to ``server_s``)."""
        async with self.engine.connect() as conn:
            backend = await _backend(conn)
            server = process_cpu_s(backend)
            began = time.process_time()
            async with conn.begin():
                await self.projection.handle_batch(conn, batch)
            spent = time.process_time() - began
            after = process_cpu_s(backend)
        self.growing.wrote(len(batch))
        if self.server_s is not None and server is not None and after is not None:
            self.server_s += after - server
        else:
            self.server_s = None
        return spent

    async def written(self) -> list[tuple[int, int]]:
        rows = []
        async with self.engine.begin() as tx:
            for sql in WRITTEN:
                count, checksum = (await tx.execute(text(sql))).one()
                rows.append((int(count), int(checksum)))
        return rows


async def _backend(conn: AsyncConnection) -> int:
    """The pid of the connection's PostgreSQL backend (asyncpg knows it: no round trip)."""
    raw = await conn.get_raw_connection()
    return int(raw.driver_connection.get_server_pid())  # type: ignore[union-attr]


@dataclass(frozen=True)
class Outcome:
    events: int
    cpu_us: dict[str, float]  # per event, by variant
    server_us: dict[str, float | None]  # its database backend's per event, where readable
    tenths_us: dict[str, list[float]]  # per event in each tenth of the log, by variant
    same_rows: bool
    cases_kept_folded: int  # by the variant that keeps them, at the end


async def run(database_url: str, cases: int, batch: int) -> Outcome:
    database_url = normalise_url(database_url)
    envelopes = await _year(database_url, cases)
    variants = [
        await _variant(database_url, "refold", 0),
        await _variant(database_url, "fold_on", DEFAULT_CAPACITY),
    ]
    with _collecting_as_served():
        await _alternate(variants, envelopes, batch)
    for variant in variants:
        await variant.growing.settled()
    written = [await variant.written() for variant in variants]
    kept = len(variants[1].folded)
    for variant in variants:
        await variant.engine.dispose()
    per_tenth = len(envelopes) / TENTHS
    return Outcome(
        events=len(envelopes),
        cpu_us={v.name: v.cpu_s / len(envelopes) * 1e6 for v in variants},
        server_us={
            v.name: None if v.server_s is None else v.server_s / len(envelopes) * 1e6
            for v in variants
        },
        tenths_us={v.name: [t / per_tenth * 1e6 for t in v.tenths] for v in variants},
        same_rows=written[0] == written[1],
        cases_kept_folded=kept,
    )


async def _alternate(variants: list[Variant], envelopes: list[Envelope], batch: int) -> None:
    """Every batch into both, alternating which goes first; each one's CPU counted."""
    for number, start in enumerate(range(0, len(envelopes), batch)):
        chunk = envelopes[start : start + batch]
        tenth = start * TENTHS // len(envelopes)
        for variant in variants if number % 2 == 0 else variants[::-1]:
            spent = await variant.apply(chunk)
            variant.cpu_s += spent
            variant.tenths[tenth] += spent


@contextmanager
def _collecting_as_served() -> Iterator[None]:
    """The cycle collector as a serving process has it (``naervaer.hosting``): what lives
    before the run (the year's envelopes, which a service never holds) frozen unless the
    caller froze some, the first generation's threshold raised; as before afterwards. With
    CPython's defaults the collector scanned the growing heap ever longer: 3-7 s of each
    tenth of a 20 000-case year (BENCHMARKS.md, fourteenth round)."""
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    try:
        if not frozen:  # else what the caller froze stays as it is (unfreezing is all or none)
            freeze_start_up()
        collect_less_while_serving()
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not frozen:
            gc.unfreeze()


async def _year(database_url: str, cases: int) -> list[Envelope]:
    """The generated year stored as W6 stores it; the events the timeline takes, in order."""
    await upgrade(CASE_SERVICE, DatabaseTarget(database_url, "case_service"))
    log = CaseLog.open(database_url, None, WRITERS)
    try:

        async def commands(steps: list[Step]) -> None:
            for step in steps:
                await log.append(step.tale, step.events)

        for steps in days(cases, first_day()):
            by_case: dict[str, list[Step]] = collections.defaultdict(list)
            for step in steps:
                by_case[step.tale.case_id].append(step)
            await bounded((functools.partial(commands, s) for s in by_case.values()), WRITERS)
        stored = await log.store.read_all(0, 100_000_000)
    finally:
        await log.close()
    return [envelope for envelope in stored if envelope.type in RELEVANT_TYPES]


async def _variant(database_url: str, name: str, folded_cases: int) -> Variant:
    target = DatabaseTarget(database_url, f"deadline_{name}")
    await upgrade(DEADLINE_SERVICE, target)
    folded = FoldedCases(folded_cases)
    projection = TimelineProjection(Policies(), _Unsealed(), OpenedEvents(), folded)
    engine = create_engine(target)
    return Variant(name, engine, projection, folded, GrowingTables(engine))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fold_ab", description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000, help="cases in the year")
    parser.add_argument("--batch", type=int, default=50, help="events a batch (live-sized)")
    parser.add_argument("--database-url", help="use this PostgreSQL (default: start one)")
    args = parser.parse_args(argv)
    server = None
    if args.database_url is None:
        server = LocalPostgres(fsync=False)
        server.start()
    try:
        url = args.database_url or (server.url if server else "")
        outcome = asyncio.run(run(url, args.cases, args.batch))
    finally:
        if server is not None:
            server.destroy()
    print(f"{outcome.events:,} events the timeline takes, {args.cases:,} cases")
    for name, cpu_us in outcome.cpu_us.items():
        tenths = " ".join(f"{t:.0f}" for t in outcome.tenths_us[name])
        print(f"{name:8} {cpu_us:7.0f} µs of CPU an event; by tenth of the log: {tenths}")
    for name, server_us in outcome.server_us.items():
        figure = "not readable here" if server_us is None else f"{server_us:.0f} µs an event"
        print(f"{name:8} its database backend: {figure}")
    print(f"cases kept folded at the end: {outcome.cases_kept_folded:,}")
    print("same obligations and timers:", "yes" if outcome.same_rows else "NO")
    if not outcome.same_rows:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
