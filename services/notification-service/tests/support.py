"""Test helpers: a movable clock, a real SMTP server, a real HTTP receiver, event builders."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from pydantic import BaseModel

from naervaer.contracts.case import CaseOpened
from naervaer.contracts.followup import DialogueMeetingScheduled, Participant
from naervaer.envelope import Envelope
from naervaer.privacy.sealer import Sealer

T = TypeVar("T")


@dataclass
class MovableClock:
    """Real time shifted to a chosen moment (so retry delays pass), settable like the dev clock."""

    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set(self, moment: datetime) -> None:
        self.offset = moment - datetime.now(UTC)

    def advance(self, by: timedelta) -> None:
        self.offset += by


class _Collector:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class SmtpServer:
    """aiosmtpd on 127.0.0.1:``port``; ``start`` may come late (an SMTP outage)."""

    port: int
    collector: _Collector = field(default_factory=_Collector)
    controller: Controller | None = None

    @property
    def messages(self) -> list[Message]:
        return self.collector.messages

    def start(self) -> None:
        self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    """A real HTTP server in a thread answering each POST with the next scripted status."""

    def __init__(self, statuses: Iterable[int] = (), default: int = 200) -> None:
        self.statuses = deque(statuses)
        self.default = default
        self.requests: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status = receiver.statuses.popleft() if receiver.statuses else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        return Handler


def envelope(
    event_type: str,
    payload: BaseModel,
    *,
    tenant: str = "acme",
    stream: str,
    version: int = 1,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """An integration event as a producer would publish it."""
    data = payload.model_dump(mode="json")
    return envelope_of(
        event_type, data, tenant=tenant, stream=stream, version=version, event_id=event_id
    )


def envelope_of(
    event_type: str,
    data: dict[str, Any],
    *,
    tenant: str = "acme",
    stream: str,
    version: int = 1,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """An integration event carrying ``data`` as it is (e.g. with sealed personal fields)."""
    return Envelope(
        id=event_id or uuid.uuid4(),
        source="/test",
        type=event_type,
        subject=stream,
        time=datetime.now(UTC),
        dataschema=f"schemas/{event_type}/v1.json",
        data=data,
        tenant=tenant,
        streamid=stream,
        streamversion=version,
    )


async def sealed(
    sealer: Sealer,
    event_type: str,
    payload: BaseModel,
    *,
    stream: str,
    employee_id: str | None = None,
    key_id: str | None = None,
    tenant: str = "acme",
) -> Envelope:
    """The event with its personal fields sealed as its producer seals them: with the
    employee's key (the case service) or with the case's key id (the deadline service)."""
    if key_id is not None:
        (data,) = await sealer.with_key(key_id, [payload])
    else:
        assert employee_id is not None
        (data,) = await sealer.for_employee(tenant, employee_id, [payload])
    return envelope_of(event_type, data, tenant=tenant, stream=stream)


def deadline_payload(
    stage: str,
    kind: str = "follow_up_plan",
    *,
    case_id: str = "case-1",
    responsible: str = "employer",
    due: date = date(2026, 3, 17),
) -> tuple[str, BaseModel]:
    from naervaer.contracts.deadline import DEADLINE_EVENTS

    event_type = f"deadline.{stage}"
    model = DEADLINE_EVENTS[event_type](
        case_id=case_id,
        kind=kind,  # type: ignore[arg-type]
        due_date=due,
        responsible=responsible,  # type: ignore[arg-type]
        legal_basis="aml § 4-6 (3)",
        manager_id="mgr-1",
        employee_id="emp-1",
        org_unit="warehouse",
    )
    return event_type, model


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, timeout_s: float = 15.0, what: str = "condition"
) -> T:
    """Poll ``probe`` until it returns something truthy, or fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout_s}s")
        await asyncio.sleep(0.02)


def case_1_with_a_meeting() -> tuple[CaseOpened, DialogueMeetingScheduled]:
    """Ola's case (case-1, emp-1, managed by mgr-1) and its dialogue meeting 1, both parties
    invited."""
    opened = CaseOpened(
        case_id="case-1", employee_id="emp-1", manager_id="mgr-1", org_unit="warehouse",
        first_absence_day=date(2026, 2, 2), began_with="sick_note",
    )  # fmt: skip
    meeting = DialogueMeetingScheduled(
        case_id="case-1", meeting_id="m-1", meeting_number=1,
        starts_at=datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
        participants=[Participant(party="employee"), Participant(party="manager")],
        employee_consented_to_doctor=False,
    )  # fmt: skip
    return opened, meeting
