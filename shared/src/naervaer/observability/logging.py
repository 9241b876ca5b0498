"""Structured logs: one JSON object per line on stdout, the same shape for every library.

structlog and the standard library (uvicorn, sqlalchemy, aiokafka) share one processor chain,
so each line carries ``timestamp`` (ISO 8601, UTC), ``level``, ``logger`` and ``event``, and when
known ``trace_id``/``span_id`` of the current OpenTelemetry span and the context bound with
:func:`bind_service` / :func:`log_context` (``service``, ``tenant``, ``case_id``,
``correlation_id``). The context lives in contextvars, not in globals: in the embedded default the
four services share one process and each request or task carries its own service name.

Sick-leave cases hold health data (helseopplysninger): never log payloads, and values under
secret-looking keys are replaced by ``[REDACTED]`` whatever the caller passes.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import structlog
from opentelemetry import trace
from structlog.types import EventDict, Processor, WrappedLogger

REDACTED = "[REDACTED]"

# Substrings of key names whose values are secrets (matched on the lower-cased key, "-" as "_"),
# so "Authorization", "X-Api-Key", "set-cookie" and "db_password" are all caught.
_SENSITIVE_KEY_PARTS = (
    "authorization",
    "token",
    "password",
    "passwd",
    "secret",
    "cookie",
    "api_key",
    "apikey",
    "private_key",
    "credential",
)
# Credentials that leak into free text, e.g. an exception message quoting a header.
_CREDENTIAL_IN_TEXT = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_MAX_DEPTH = 5
# uvicorn's access log duplicates the access line of our middleware; SQLAlchemy's INFO level
# and aiosqlite's DEBUG level echo statements with their parameters, i.e. personal data and
# secrets (found by tests/hostile at NAERVAER_LOG_LEVEL=DEBUG).
_LIBRARY_LEVELS = {
    "uvicorn.access": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.WARNING,
}
_ROUTED_LIBRARIES = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "aiokafka")


def configure_logging(*, level: str = "INFO", fmt: Literal["json", "console"] = "json") -> None:
    """Route structlog and stdlib logging to stdout as JSON lines (or coloured console lines).

    Idempotent: a second call replaces the handler installed by the first one.
    """
    shared = _shared_processors()
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=_render_processors(fmt),
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    _route_library_loggers()


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structlog logger writing through the chain set up by :func:`configure_logging`."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def bind_service(service: str) -> None:
    """Bind the service name to the current context (a request, a task and what it spawns)."""
    structlog.contextvars.bind_contextvars(service=service)


@contextmanager
def log_context(
    *,
    service: str | None = None,
    tenant: str | None = None,
    case_id: str | None = None,
    correlation_id: str | None = None,
) -> Iterator[None]:
    """Bind the given (non-None) values for the block; earlier values come back afterwards."""
    values = {
        "service": service,
        "tenant": tenant,
        "case_id": case_id,
        "correlation_id": correlation_id,
    }
    with structlog.contextvars.bound_contextvars(
        **{key: value for key, value in values.items() if value is not None}
    ):
        yield


def add_trace_context(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Add the current span's ``trace_id``/``span_id`` (hex, as trace viewers show them)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace values under secret-looking keys (also nested) and credentials inside text."""
    for key, value in event_dict.items():
        if key.startswith("_") or key == "exc_info":
            continue  # structlog's own bookkeeping (the LogRecord, exception tuples)
        event_dict[key] = REDACTED if is_sensitive_key(key) else _redact(value, 0)
    return event_dict


def is_sensitive_key(key: str) -> bool:
    normal = key.lower().replace("-", "_")
    return any(part in normal for part in _SENSITIVE_KEY_PARTS)


def _redact(value: Any, depth: int) -> Any:
    if isinstance(value, str):
        return _CREDENTIAL_IN_TEXT.sub(rf"\1 {REDACTED}", value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_sensitive_key(_key_text(k)) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact_item(item, depth + 1) for item in value]
    return value


def _redact_item(item: Any, depth: int) -> Any:
    # Header lists as (name, value) pairs, str or bytes as in ASGI scopes.
    if isinstance(item, tuple) and len(item) == 2 and is_sensitive_key(_key_text(item[0])):
        return (item[0], REDACTED)
    return _redact(item, depth)


def _key_text(key: Any) -> str:
    if isinstance(key, bytes):
        return key.decode("latin-1")
    return key if isinstance(key, str) else ""


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        add_trace_context,
        structlog.processors.StackInfoRenderer(),
    ]


def _render_processors(fmt: Literal["json", "console"]) -> list[Processor]:
    strip_meta = structlog.stdlib.ProcessorFormatter.remove_processors_meta
    if fmt == "console":
        return [strip_meta, redact_secrets, structlog.dev.ConsoleRenderer()]
    # Redact after formatting the traceback: exception messages may quote credentials.
    return [
        strip_meta,
        structlog.processors.format_exc_info,
        redact_secrets,
        structlog.processors.JSONRenderer(),
    ]


def _route_library_loggers() -> None:
    for name in _ROUTED_LIBRARIES:
        library_logger = logging.getLogger(name)
        library_logger.handlers.clear()  # uvicorn installs its own when given a log config
        library_logger.propagate = True
    for name, level in _LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(level)


class _StdoutHandler(logging.StreamHandler[Any]):
    """Writes to whatever ``sys.stdout`` is when a line is emitted, not when configured.

    Test runners and process managers swap ``sys.stdout``; a handler bound to the old object
    would write to a closed or captured stream.
    """

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)
