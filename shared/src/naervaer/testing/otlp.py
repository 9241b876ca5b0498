"""A tiny OTLP/HTTP trace receiver for tests: what the services export, kept in memory.

Point a process at it with ``OTEL_EXPORTER_OTLP_ENDPOINT=<receiver.endpoint>`` (protocol
``http/protobuf``, the default): the exporter POSTs ``ExportTraceServiceRequest`` protobufs to
``/v1/traces``, and the receiver keeps each span with its ``service.name``, ids and kind, so a
test can follow one trace across processes without Jaeger or a collector.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

TRACES_PATH = "/v1/traces"
PROTOBUF = "application/x-protobuf"
Attribute = str | bool | int | float


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span; ids are lower-case hex as in a ``traceparent`` header."""

    service: str
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    """``SERVER``, ``CLIENT``, ``PRODUCER``, ``CONSUMER`` or ``INTERNAL``."""
    attributes: dict[str, Attribute] = field(default_factory=dict, compare=False)


class OtlpReceiver:
    """An OTLP/HTTP (protobuf) trace endpoint on 127.0.0.1 in a thread; a context manager."""

    def __init__(self) -> None:
        self._spans: list[ReceivedSpan] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        # A short poll interval: shutdown() waits for the loop to notice, up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="otlp-receiver",
            daemon=True,
        )

    @property
    def endpoint(self) -> str:
        """The base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter adds /v1/traces)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far, in arrival order."""
        with self._lock:
            return list(self._spans)

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        """The spans of one trace received so far."""
        return [span for span in self.spans if span.trace_id == trace_id]

    def find(self, predicate: Callable[[ReceivedSpan], bool]) -> list[ReceivedSpan]:
        return [span for span in self.spans if predicate(span)]

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def keep(self, body: bytes) -> None:
        """Decode one export request and keep its spans (raises on a malformed body)."""
        request = ExportTraceServiceRequest.FromString(body)
        decoded = list(_decode(request))
        with self._lock:
            self._spans.extend(decoded)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != TRACES_PATH:
                    self._answer(404, b"")
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    receiver.keep(_decompressed(raw, self.headers.get("Content-Encoding")))
                except Exception:  # a bad body is the sender's fault: 400, keep serving
                    self._answer(400, b"")
                    return
                self._answer(200, ExportTraceServiceResponse().SerializeToString())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", PROTOBUF)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass  # keep the test output clean

        return Handler


def _decompressed(raw: bytes, encoding: str | None) -> bytes:
    # OTEL_EXPORTER_OTLP_COMPRESSION may turn on gzip or deflate.
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    return raw


def _decode(request: ExportTraceServiceRequest) -> Iterable[ReceivedSpan]:
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name", "unknown_service"))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield _span(service, span)


def _span(service: str, span: ProtoSpan) -> ReceivedSpan:
    kind = ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_")
    return ReceivedSpan(
        service=service,
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex() or None,
        name=span.name,
        kind=kind,
        attributes=_attributes(span.attributes),
    )


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Attribute]:
    return {pair.key: _scalar(pair.value) for pair in pairs}


def _scalar(value: AnyValue) -> Attribute:
    """The scalar inside an ``AnyValue``; arrays and maps are kept as their text form."""
    which = value.WhichOneof("value")
    if which in ("string_value", "bool_value", "int_value", "double_value"):
        found: Attribute = getattr(value, which)
        return found
    return str(value).strip()
