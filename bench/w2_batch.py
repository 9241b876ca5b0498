"""W2: batched append — 10, 100 and 500 events per append, each to a new stream.

A case history imported in one go (or a command that records many events) is one append of
many events. Concurrent writers; events/s, against raw asyncpg (one INSERT … unnest) and the
eventsourcing recorder (its executemany) on the same PostgreSQL.
"""

from __future__ import annotations

import uuid

from bench.context import BenchContext
from bench.driver import CPU_NOTE, Timed, closed_loop, rounds_for
from bench.peer_eventsourcing import EventsourcingWriter
from bench.results import Check, WorkloadResult, ratio
from bench.writers import AsyncpgWriter, NaervaerWriter, Writer

TITLE = "W2 batched append"
TARGET_EVENTS_PER_S = 100_000


async def run(ctx: BenchContext) -> WorkloadResult:
    scale = ctx.scale
    url = await ctx.fresh_database("w2")
    writers: list[Writer] = [NaervaerWriter(url), AsyncpgWriter(url), EventsourcingWriter(url)]
    rows: list[dict[str, object]] = []
    for size in scale.batch_sizes:
        timed = {writer.name: Timed() for writer in writers}
        rounds = rounds_for(scale.duration_s)
        for _ in range(rounds):
            for writer in writers:
                timed[writer.name].add(await _measure(ctx, writer, size, rounds))
        for writer in writers:
            rows.append(_row(writer.name, size, timed[writer.name]))
            ctx.say(f"W2 {writer.name} x {size}/append: {rows[-1]['events_per_s']} events/s")
    return WorkloadResult(
        key="w2",
        title=TITLE,
        params={
            "batch_sizes": list(scale.batch_sizes),
            "writers": scale.batch_writers,
            "duration_s": scale.duration_s,
            "fsync": ctx.fsync,
        },
        rows=rows,
        checks=checks(rows),
        notes=[
            "Every append starts a new stream (expected version 0); naervaer with outbox, one "
            "row per append (NAERVAER_OUTBOX_ROW_PER_APPEND).",
            CPU_NOTE.replace("operation", "event"),
        ],
    )


async def _measure(ctx: BenchContext, writer: Writer, size: int, rounds: int) -> Timed:
    await writer.open(ctx.scale.batch_writers)
    try:
        return await closed_loop(
            ctx.scale.batch_writers,
            lambda: _append(writer, size),
            warmup_s=ctx.scale.warmup_s,
            duration_s=ctx.scale.duration_s / rounds,
        )
    finally:
        await writer.close()


async def _append(writer: Writer, size: int) -> None:
    await writer.append_batch(str(uuid.uuid4()), size)


def _row(system: str, size: int, timed: Timed) -> dict[str, object]:
    return {
        "system": system,
        "per_append": size,
        "appends": timed.operations,
        "events_per_s": timed.per_second(size),
        **timed.latencies.summary(50, 99),
        **timed.cpu_us(size),
    }


def checks(rows: list[dict[str, object]]) -> list[Check]:
    """≥ 100 000 events/s at 500 events per append (also shown: the ratio to the peers)."""
    at_500 = {
        str(row["system"]): float(str(row["events_per_s"]))
        for row in rows
        if row["per_append"] == 500
    }
    if "naervaer" not in at_500:
        return [Check("≥ 100 000 events/s at 500/append", "not run", None)]
    ours = at_500["naervaer"]
    versus = ", ".join(
        f"{ratio(ours, theirs)}x {name}" for name, theirs in at_500.items() if name != "naervaer"
    )
    return [
        Check(
            "≥ 100 000 events/s at 500/append",
            f"{ours:,.0f} events/s ({versus})",
            ours >= TARGET_EVENTS_PER_S,
        )
    ]
