"""A stand-in OTLP collector for ``--traces``: it takes every export and throws it away.

With ``--traces`` the services export every span (sampled always), as they would to a
collector, so a run shows what tracing costs them. This sink answers each ``POST
/v1/traces`` with 200 after reading the body, and decodes nothing: decoding and storing are a
collector's cost, on its own machine, not the services'. It runs on a thread of the harness.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the exporters reuse their connection

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.exports += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        return  # one line per export would drown the run's output


class SpanSink:
    """``with SpanSink() as sink:`` — ``sink.endpoint`` is the OTLP/HTTP base URL."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
        self._server.exports = 0  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def exports(self) -> int:
        """How many export requests (batches of spans) arrived."""
        return int(self._server.exports)  # type: ignore[attr-defined]

    def __enter__(self) -> SpanSink:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
