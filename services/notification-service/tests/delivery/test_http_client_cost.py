"""The webhook and SMS channels' HTTP client imports nothing per request.

httpcore asks for ``sniffio`` on every request (four times); without it installed each ask is a
failed import that searches all of ``sys.path`` (~30 % of a request's CPU, issue 8). The
service's dependencies name it, and this test finds out if a request starts importing again.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import httpx

RESPONSE = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class ImportsSeen(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path``: notes every module looked for, finds none itself."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        self.names.append(fullname)
        return None


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while await reader.readuntil(b"\r\n\r\n"):  # requests without a body
            writer.write(RESPONSE)
            await writer.drain()
    except asyncio.IncompleteReadError:  # the client closed its connection
        writer.close()


async def test_a_request_over_a_kept_connection_imports_nothing() -> None:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    seen = ImportsSeen()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/hook")).status_code == 204  # warm
            sys.meta_path.insert(0, seen)
            try:
                assert (await client.get("/hook")).status_code == 204
            finally:
                sys.meta_path.remove(seen)
    finally:
        server.close()
        await server.wait_closed()
    assert seen.names == []
