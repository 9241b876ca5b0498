"""W1: single-event append under contention (one event per command, optimistic concurrency).

1, 4, 16 and 64 writers append to case streams chosen by a Zipf law, so a few streams are
hot and writers collide on them. Each command reads the stream's version, appends one event
expecting it and, on a conflict, reads again and retries. The same run measures raw asyncpg
and the eventsourcing library doing the same on the same PostgreSQL (fsync on).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from bench.context import BenchContext
from bench.driver import CPU_NOTE, Timed, closed_loop, rounds_for
from bench.peer_eventsourcing import EventsourcingWriter
from bench.results import Check, WorkloadResult, ratio
from bench.stats import Zipf
from bench.writers import AsyncpgWriter, NaervaerWriter, Writer

TITLE = "W1 single-event append under contention"
STREAMS = uuid.UUID("6f0e5b8c-2d4a-4c1e-8a57-6a0f8b6c1d10")


def stream_ids(count: int) -> list[str]:
    """Case stream ids (UUIDs: the eventsourcing recorder keys streams by UUID)."""
    return [str(uuid.uuid5(STREAMS, f"case-{rank}")) for rank in range(count)]


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    url = await ctx.fresh_database("w1")
    writers: list[Writer] = [NaervaerWriter(url), AsyncpgWriter(url), EventsourcingWriter(url)]
    streams = stream_ids(scale.streams)
    rows = []
    for concurrency in scale.concurrency:
        timed = {writer.name: Timed() for writer in writers}
        rounds = rounds_for(scale.duration_s)
        for _ in range(rounds):
            for writer in writers:
                timed[writer.name].add(await _measure(ctx, writer, streams, concurrency, rounds))
        for writer in writers:
            rows.append(_row(writer.name, concurrency, timed[writer.name]))
            ctx.say(f"W1 {writer.name} x {concurrency}: {rows[-1]['events_per_s']} events/s")
    return WorkloadResult(
        key="w1",
        title=TITLE,
        params={
            "concurrency": list(scale.concurrency),
            "streams": scale.streams,
            "zipf_s": 1.0,
            "duration_s": scale.duration_s,
            "warmup_s": scale.warmup_s,
            "fsync": ctx.fsync,
        },
        rows=rows,
        checks=checks(rows),
        notes=[
            "naervaer: EventStore.append with outbox rows, as the case service runs it.",
            "asyncpg: SELECT max(version) + INSERT of one row, primary key (stream, version).",
            "eventsourcing: PostgresApplicationRecorder (select_events + insert_events).",
            CPU_NOTE.replace("operation", "command"),
        ],
    )


async def _measure(
    ctx: BenchContext, writer: Writer, streams: Sequence[str], concurrency: int, rounds: int
) -> Timed:
    zipf = Zipf(len(streams), s=1.0, seed=concurrency)
    await writer.open(concurrency)
    try:
        return await closed_loop(
            concurrency,
            lambda: writer.append_one(streams[zipf()]),
            warmup_s=ctx.scale.warmup_s,
            duration_s=ctx.scale.duration_s / rounds,
        )
    finally:
        await writer.close()


def _row(system: str, concurrency: int, timed: Timed) -> dict[str, object]:
    return {
        "system": system,
        "writers": concurrency,
        "events": timed.operations,
        "events_per_s": timed.per_second(),
        **timed.latencies.summary(50, 99),
        "conflicts": timed.conflicts,
        **timed.cpu_us(),
    }


def checks(rows: list[dict[str, object]]) -> list[Check]:
    """≥ 2x eventsourcing at every concurrency; ≥ 75 % of raw asyncpg at 16+ writers."""
    found = []
    for writers in sorted({int(str(row["writers"])) for row in rows}):
        rates = {
            str(row["system"]): float(str(row["events_per_s"]))
            for row in rows
            if row["writers"] == writers
        }
        versus_es = ratio(rates["naervaer"], rates["eventsourcing"])
        found.append(
            Check(
                f"{writers} writers: ≥ 2x eventsourcing",
                f"{versus_es}x",
                versus_es is not None and versus_es >= 2,
            )
        )
        if writers >= 16:
            versus_raw = ratio(rates["naervaer"], rates["asyncpg"])
            found.append(
                Check(
                    f"{writers} writers: ≥ 75 % of raw asyncpg",
                    f"{round((versus_raw or 0) * 100)} %",
                    versus_raw is not None and versus_raw >= 0.75,
                )
            )
    return found
