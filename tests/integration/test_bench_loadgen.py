"""W3's load generator: one client (one keep-alive connection) per request in flight, and a
start time with every latency, so the tail can be told apart as a stall or as queueing.

The server is a bare HTTP/1.1 keep-alive stub that answers after a short pause and counts
connections and requests in flight. W3's p99 tail was the old generator's own doing: one
httpcore pool of exactly ``clients`` connections handed an idle connection to several queued
requests at once, and the losers waited up to a second before being written. That race needs
a slow, busy server to show and is measured by W3 itself; this checks the shape that avoids it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.driver import Timed
from bench.loadgen import LoadPlan, _run
from bench.stats import slowest

CLIENTS = 6
PAUSE_S = 0.005


@dataclass
class StubServer:
    """Answers ``/v1/cases`` and sick notes like the case service, after ``PAUSE_S``."""

    connections: int = 0
    in_flight: int = 0
    most_in_flight: int = 0
    ids: itertools.count[int] = field(default_factory=itertools.count)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                await self._answer(head, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its keep-alive connection
        finally:
            writer.close()

    async def _answer(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        lines = head.decode().split("\r\n")
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:] if line)}
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(PAUSE_S)  # the stub's "work": lets the other clients catch up
        self.in_flight -= 1
        if lines[0].split()[1].endswith("/sick-notes"):
            body: dict[str, object] = {"version": next(self.ids) + 2}
        else:
            body = {"case_id": f"case-{next(self.ids)}", "version": 1}
        payload = json.dumps(body).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()


@pytest.fixture
async def stub_server() -> AsyncIterator[tuple[StubServer, str]]:
    stub = StubServer()
    server = await asyncio.start_server(stub.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield stub, f"http://127.0.0.1:{port}"


async def test_each_client_keeps_one_connection_and_all_are_in_flight(
    stub_server: tuple[StubServer, str],
) -> None:
    stub, base_url = stub_server
    plan = LoadPlan((base_url,), "token", CLIENTS, cases=3 * CLIENTS, warmup_s=0.05, duration_s=0.3)

    result = await _run(plan)

    timed: Timed = result["timed"]
    assert stub.connections == CLIENTS  # one each, kept alive from the cases to the notes
    assert stub.most_in_flight == CLIENTS
    assert result["opened"] == 3 * CLIENTS
    assert set(result["statuses"]) == {200}  # warm-up's requests counted too
    assert result["statuses"][200] >= timed.operations
    assert timed.operations > CLIENTS
    assert len(timed.started_s) == timed.operations == len(timed.latencies)
    assert all(0 <= start < plan.duration_s for start in timed.started_s)
    assert timed.opened_at > 0


async def test_the_clients_spread_evenly_over_the_replicas(
    stub_server: tuple[StubServer, str],
) -> None:
    first, first_url = stub_server
    second = StubServer()
    server = await asyncio.start_server(second.serve, "127.0.0.1", 0)
    second_url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    plan = LoadPlan(
        (first_url, second_url), "token", CLIENTS, cases=CLIENTS, warmup_s=0.05, duration_s=0.2
    )

    async with server:
        result = await _run(plan)

    assert first.connections == second.connections == CLIENTS // 2
    assert first.most_in_flight == second.most_in_flight == CLIENTS // 2
    assert result["timed"].operations > CLIENTS


def test_slowest_lists_the_tail_in_the_order_it_started() -> None:
    starts = [float(i) for i in range(200)]
    latencies = [0.010] * 200
    latencies[150], latencies[20], latencies[90] = 0.900, 0.500, 0.700

    tail = slowest(starts, latencies)  # 1 % of 200: the two slowest

    assert tail == [{"start_s": 90.0, "ms": 700.0}, {"start_s": 150.0, "ms": 900.0}]
    assert slowest([], []) == []
    assert slowest([0.5], [0.2]) == [{"start_s": 0.5, "ms": 200.0}]
