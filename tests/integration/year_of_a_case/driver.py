"""The scenario driver: one case played through the REST APIs, the clock moved week by week,
and after every step the services compared with the expectations worked out in the test.

It talks HTTP only (``Endpoints``); what it cannot see over HTTP comes in through two small
protocols the host provides: the deadline service's event log (``DeadlineLog``) and, where the
deadline service cannot move the clock, a ``ClockControl``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays

from .api import Api, Endpoints, Party, TokenSource, until
from .expectations import Expectations, People, Reminder
from .receivers import SmtpServer, WebhookReceiver

OSLO = ZoneInfo("Europe/Oslo")
STEP_TIME = time(13, 0)
"""Each week's moment: after the morning's meetings, inside everybody's working hours."""
NORWAY = holidays.country_holidays("NO")


class ClockControl(Protocol):
    async def set(self, moment: datetime) -> None: ...


class DeadlineLog(Protocol):
    """The deadline events the deadline service has emitted so far (its event store)."""

    async def reminders(self) -> Counter[Reminder]: ...


class DevClockOverHttp:
    """``PUT /v1/dev/clock`` on the deadline service: moves every service, wakes the timers."""

    def __init__(self, endpoints: Endpoints) -> None:
        self._endpoints = endpoints

    async def set(self, moment: datetime) -> None:
        response = await self._endpoints.deadline.put(
            "/v1/dev/clock", json={"now": moment.isoformat()}
        )
        assert response.status_code == 200, response.text


@dataclass(frozen=True)
class Cast:
    """The people of the case, as token subjects."""

    employee: Party
    manager: Party
    hr: Party = field(default_factory=lambda: Party("hr", "hr-1"))
    nav: Party = field(default_factory=lambda: Party("nav", "nav-veileder-1"))

    @classmethod
    def fresh(cls) -> Cast:
        tag = uuid.uuid4().hex[:6]
        return cls(Party("employee", f"emp-{tag}"), Party("manager", f"mgr-{tag}"))


class CaseDriver:
    """Plays one case; ``expect`` is the model the services are held to after every step."""

    def __init__(
        self,
        endpoints: Endpoints,
        tokens: TokenSource,
        *,
        start: date,
        smtp: SmtpServer,
        webhooks: WebhookReceiver,
        deadline_log: DeadlineLog,
        clock: ClockControl | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self.api = Api(endpoints, tokens)
        self.timeout_s = timeout_s  # per condition; a host on Kafka may want more
        self.start = start
        self.smtp = smtp
        self.webhooks = webhooks
        self.deadline_log = deadline_log
        self.clock: ClockControl = clock or DevClockOverHttp(endpoints)
        self.cast = Cast.fresh()
        people = People(self.cast.employee.subject, self.cast.manager.subject)
        self.expect = Expectations(start, people, today=start)
        self._case_id: str | None = None
        self._commands = 0

    @property
    def endpoints(self) -> Endpoints:
        return self.api.endpoints

    @property
    def case_id(self) -> str:
        assert self._case_id is not None, "the case is not opened yet"
        return self._case_id

    @property
    def today(self) -> date:
        return self.expect.today

    def day(self, offset: int) -> date:
        """S + ``offset`` days."""
        return self.start + timedelta(days=offset)

    def moment(self, week: int) -> datetime:
        """Week ``week``'s moment: S + 7·week at 13:00 in Oslo, or the next working day."""
        day = self.day(7 * week)
        while day.weekday() >= 5 or day in NORWAY:
            day += timedelta(days=1)
        return datetime.combine(day, STEP_TIME, OSLO)

    async def enter_week(self, week: int) -> None:
        """Move every service's clock to the week's moment (the model moves with it)."""
        moment = self.moment(week)
        await self.clock.set(moment)
        self.expect.move_to(moment.date())

    async def open_case(self, **fields: Any) -> None:
        body = {
            "employee_id": self.cast.employee.subject,
            "manager_id": self.cast.manager.subject,
            "org_unit": "warehouse-north",
            "first_absence_day": self.start.isoformat(),
            **fields,
        }
        key = {"Idempotency-Key": f"open-{self.cast.employee.subject}-{self.start}"}
        response = await self.api.call(
            "case", "POST", "/v1/cases", by=self.cast.hr, body=body, expect=(201,), headers=key
        )
        self._case_id = response.json()["case_id"]
        self.expect.open_case()

    async def command(self, path: str, body: Mapping[str, Any], *, by: Party) -> None:
        """One case command, with an Idempotency-Key as an HR suite that retries would send."""
        self._commands += 1
        key = {"Idempotency-Key": f"{self.case_id}-{self._commands}"}
        await self.api.call(
            "case",
            "POST",
            f"/v1/cases/{self.case_id}/{path}",
            by=by,
            body=dict(body),
            headers=key,
        )

    async def sign(self, kind: str, version: int, **body: Any) -> None:
        """Employee and manager sign ``version`` of the case's ``kind`` document whose body has
        ``body``'s items, once the document service has stored it."""
        document_id, digest = await self._stored_version(kind, version, body)
        path = f"/v1/documents/{document_id}/versions/{version}/signatures"
        for party in (self.cast.employee, self.cast.manager):
            await self.api.call(
                "document",
                "POST",
                path,
                by=party,
                body={"document_hash": digest},
                expect=(201,),
            )

    async def settle(self) -> None:
        """Wait until the services show what the model expects, or fail naming the difference."""
        for probe, what in (
            (self._timeline_differs, "timeline"),
            (self._reminders_differ, "deadline events"),
            (self._messages_differ, "messages received"),
        ):
            await until(probe, what=f"{what} on {self.today}", timeout_s=self.timeout_s)

    async def timeline(self) -> dict[str, Any]:
        timeline: dict[str, Any] = await self.api.get(
            "deadline", f"/v1/cases/{self.case_id}/timeline", by=self.cast.hr
        )
        return timeline

    async def _timeline_differs(self) -> str | None:
        response = await self.api.call(
            "deadline",
            "GET",
            f"/v1/cases/{self.case_id}/timeline",
            by=self.cast.hr,
            expect=(200, 404),  # 404 until the deadline service has heard of the case
        )
        if response.status_code == 404:
            return "the deadline service does not know the case yet"
        found = {
            o["kind"]: (o["due_date"], o["status"], o["responsible"])
            for o in response.json()["obligations"]
        }
        wanted = self.expect.timeline()
        if found == wanted:
            return None
        return str({k: (found.get(k), v) for k, v in wanted.items() if found.get(k) != v})

    async def _reminders_differ(self) -> str | None:
        found = await self.deadline_log.reminders()
        wanted = Counter(self.expect.fired)
        if found == wanted:
            return None
        return f"missing {sorted(wanted - found)}, unexpected {sorted(found - wanted)}"

    async def _messages_differ(self) -> str | None:
        counts = {
            "email": (len(self.smtp.emails), self.expect.count("email")),
            "webhook": (len(self.webhooks.received), self.expect.count("webhook")),
        }
        if all(found == wanted for found, wanted in counts.values()):
            return None
        return ", ".join(f"{ch}: {f} received, {w} expected" for ch, (f, w) in counts.items())

    async def _stored_version(
        self, kind: str, version: int, body: Mapping[str, Any]
    ) -> tuple[str, str]:
        found: dict[str, str] = {}

        async def stored() -> str | None:
            documents = await self.api.get(
                "document", f"/v1/cases/{self.case_id}/documents", by=self.cast.hr
            )
            for document in documents:
                if document["kind"] != kind or document["latest_version"] < version:
                    continue
                content = await self.api.get(
                    "document",
                    f"/v1/documents/{document['document_id']}/versions/{version}",
                    by=self.cast.hr,
                )
                if body.items() <= content["content"]["body"].items():
                    found.update(id=document["document_id"], hash=content["document_hash"])
                    return None
            return f"no {kind} document with version {version} and {dict(body)}"

        await until(stored, what="the document version", timeout_s=self.timeout_s)
        return found["id"], found["hash"]
