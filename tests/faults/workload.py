"""The steady stream of commands: many cases at once, each a short sick-leave story told to the
case service by HR, the nearest manager and NAV, one command after the other.

Cases start about seven weeks before the (dev) clock's today, so some duties are already due
or overdue: the deadline service emits reminders and the notification service sends them by
email and webhook while the faults are injected. The ``Pacer`` lets the fault injector hold
the stream back, so that every fault meets commands in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .client import Client, Command, GaveUp, Party

OSLO = ZoneInfo("Europe/Oslo")
HR = Party("hr", "hr-1")
NAV = Party("nav", "nav-veileder-1")
HR_EMAIL = "hr@example.no"
MANAGERS = 6
COMMANDS_PER_CASE = 10


class Pacer:
    """How many commands may have been sent so far (never more than ``total``); the fault
    injector raises the limit."""

    def __init__(self, total: int) -> None:
        self.sent = 0
        self.limit = 0
        self.total = total
        self._changed = asyncio.Condition()

    async def ticket(self) -> None:
        """Wait until one more command may go, and count it as sent."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.sent < self.limit)
            self.sent += 1
            self._changed.notify_all()

    async def allow(self, limit: int) -> None:
        async with self._changed:
            self.limit = max(self.limit, min(limit, self.total))
            self._changed.notify_all()

    async def reached(self, count: int) -> None:
        """Wait until ``count`` commands have been sent."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.sent >= count)


@dataclass(frozen=True)
class CaseStory:
    """One case: who is in it, when it began, and the run-unique prefix of its keys."""

    number: int
    run: str
    start: date
    today: date

    @property
    def employee(self) -> Party:
        return Party("employee", f"emp-{self.run}-{self.number}")

    @property
    def manager(self) -> Party:
        return Party("manager", f"mgr-{self.run}-{self.number % MANAGERS}")

    def day(self, offset: int) -> str:
        return (self.start + timedelta(days=offset)).isoformat()

    def opening(self) -> Command:
        body = {
            "employee_id": self.employee.subject,
            "manager_id": self.manager.subject,
            "org_unit": f"warehouse-{self.number % 3}",
            "first_absence_day": self.start.isoformat(),
            "began_with": "sick_note",
        }
        return Command("case", "POST", "/v1/cases", body, HR, f"{self.run}-{self.number}-open")

    def commands(self, case_id: str) -> Iterator[Command]:
        """The story after the opening, in order (``COMMANDS_PER_CASE - 1`` of them)."""
        for step, (path, body, by) in enumerate(self._acts(), start=1):
            key = f"{self.run}-{self.number}-{step}"
            yield Command("case", "POST", f"/v1/cases/{case_id}/{path}", body, by, key)

    def _acts(self) -> list[tuple[str, dict[str, Any], Party]]:
        meeting_at = datetime.combine(self.today + timedelta(days=2), time(9, 0), OSLO)
        return [
            ("sick-notes", self._note("sm-1", 0, 20, 100), HR),
            ("sick-notes/sm-1/extend", {"period_end": self.day(60)}, HR),
            ("follow-up-conversations", self._conversation(), self.manager),
            ("follow-up-plan", {"plan": self._plan()}, self.manager),
            ("follow-up-plan/share", {"plan_version": 1, "recipient": "doctor"}, HR),
            ("dialogue-meetings", self._meeting(meeting_at), self.manager),
            ("adjustments", self._adjustment(), self.manager),
            ("activity-requirement-assessments", self._assessment(), NAV),
            ("sick-notes", self._note("sm-2", 61, 90, 60), HR),
        ]

    def _note(self, note_id: str, first: int, last: int, grade: int) -> dict[str, Any]:
        kind = "ordinary" if grade == 100 else "graded"
        return {
            "sick_note_id": note_id,
            "period_start": self.day(first),
            "period_end": self.day(last),
            "grade": grade,
            "kind": kind,
        }

    def _conversation(self) -> dict[str, Any]:
        return {
            "held_on": self.day(14),
            "working_day": "Standing all day is hard; desk work goes well.",
            "what_can_change": "Desk tasks instead of picking.",
            "agreed": "Desk tasks four hours a day; a plan follows.",
        }

    def _plan(self) -> dict[str, Any]:
        return {
            "typical_workday": "Picking orders in the warehouse, 7.5 hours, mostly standing.",
            "tasks_that_can_still_be_done": "Order registration at a desk.",
            "tasks_that_can_not_be_done": "Lifting over 10 kg.",
            "previous_facilitation": "None yet.",
            "planned_facilitation": "Desk tasks four hours a day.",
            "follow_up": "A talk with the manager every second Monday.",
            "evaluation_date": (self.today + timedelta(weeks=4)).isoformat(),
            "send_plan_to_nav": False,
            "send_plan_to_general_practitioner": True,
            "contact_person_full_name": "Kari Nordmann",
            "contact_person_phone_number": "+47 400 00 000",
            "employee_has_contributed_to_plan": True,
        }

    def _meeting(self, starts_at: datetime) -> dict[str, Any]:
        return {
            "meeting_id": "dm1",
            "meeting_number": 1,
            "starts_at": starts_at.isoformat(),
            "participants": [{"party": "employee"}, {"party": "manager"}],
        }

    def _adjustment(self) -> dict[str, Any]:
        return {
            "adjustment_id": "adj-1",
            "area": "working_time",
            "description": "Works 09-13 instead of 07-15, desk tasks only.",
            "starts_on": self.day(21),
            "ends_on": self.day(60),
        }

    @staticmethod
    def _assessment() -> dict[str, Any]:
        return {"outcome": "exempt", "exemption_reason": "medical_reasons"}


def stories(run: str, count: int, today: date) -> list[CaseStory]:
    """``count`` cases, first absence days spread over two weeks around seven weeks ago."""
    return [CaseStory(n, run, today - timedelta(days=42 + n % 14), today) for n in range(count)]


async def set_up_tenant(client: Client, cases: list[CaseStory], webhook: tuple[str, str]) -> None:
    """HR's notification settings: HR's mailbox and webhook, every party's address."""
    url, secret = webhook
    policy = {"hr_email": HR_EMAIL, "webhook_url": url, "webhook_secret": secret}
    await _put(client, "/v1/policy", policy)
    parties = {p for case in cases for p in (case.employee, case.manager)}
    for party in sorted(parties, key=lambda p: p.subject):
        channels = ["email", "webhook"] if party.role == "manager" else ["email"]
        entry = {"email": f"{party.subject}@example.no", "channels": channels}
        await _put(client, f"/v1/recipients/{party.subject}", entry)


async def _put(client: Client, path: str, body: dict[str, Any]) -> None:
    answer = await client.send(Command("notification", "PUT", path, body, HR, f"setup{path}"))
    assert answer.status == 200, (path, answer.status, answer.body)


class Workload:
    """Tells every story through ``client``, ``workers`` cases at a time, held back by its
    ``pacer``."""

    def __init__(self, client: Client, cases: list[CaseStory], workers: int) -> None:
        self.client = client
        self.cases = cases
        self.pacer = Pacer(len(cases) * COMMANDS_PER_CASE)
        self.workers = workers
        self.case_ids: dict[int, str] = {}
        self.problems: list[str] = []

    async def run(self) -> None:
        queue = iter(self.cases)
        await asyncio.gather(*(self._worker(queue) for _ in range(self.workers)))

    async def _worker(self, queue: Iterator[CaseStory]) -> None:
        # The workers share one iterator: each next() hands a case to exactly one of them.
        for case in queue:
            try:
                await self._tell(case)
            except GaveUp as error:
                self.problems.append(f"case {case.number}: {error}")

    async def _tell(self, case: CaseStory) -> None:
        opened = await self._send(case.opening())
        if opened is None:
            return
        self.case_ids[case.number] = opened
        for command in case.commands(opened):
            if await self._send(command) is None:
                return  # a refused step: the rest of the story would not make sense

    async def _send(self, command: Command) -> str | None:
        await self.pacer.ticket()
        answer = await self.client.send(command)
        if not 200 <= answer.status < 300:
            self.problems.append(f"{command.path} answered {answer.status}: {answer.body}")
            return None
        case_id: str = answer.body["case_id"]
        return case_id
