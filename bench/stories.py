"""Generated sick-leave cases (sykefraværstilfeller) as the case service would record them.

A case is a list of steps, each a command's events on one day, written as the integration
contracts (``naervaer.contracts``) so the deadline service reads them like the real thing.
The mix is rough Norwegian sick-leave shape: many short self-certified absences, fewer
doctor-certified ones, and a long tail of cases that run for months with extensions, graded
leave, a follow-up plan and dialogue meetings — about ten events a case on average.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from pydantic import BaseModel

from bench.stats import Zipf
from naervaer.contracts import CONTRACTS
from naervaer.contracts import case as c
from naervaer.contracts import followup as f
from naervaer.eventstore import NewEvent

PARTICIPANTS = [f.Participant(party="employee"), f.Participant(party="manager")]
TYPE_OF: dict[type[BaseModel], str] = {t.model: t.name for t in CONTRACTS}
"""Event type of each contract payload model (``case.opened`` …)."""


@dataclass
class Story:
    """One case: who it is about and its steps, each (day, events of one command)."""

    case_id: str
    tenant: str
    employee_id: str  # whose key seals the case's personal values (``bench.appender``)
    steps: list[tuple[date, list[NewEvent]]] = field(default_factory=list)

    def add(self, day: date, *payloads: BaseModel) -> None:
        events = [NewEvent(TYPE_OF[type(p)], p.model_dump(mode="json")) for p in payloads]
        self.steps.append((day, events))

    @property
    def events(self) -> int:
        return sum(len(events) for _, events in self.steps)


class Population:
    """Who gets sick: employers of Zipf-distributed size, their managers and units."""

    def __init__(self, tenants: int = 1_000, seed: int = 2026) -> None:
        self._tenant = Zipf(tenants, s=1.0, seed=seed)

    def people(self, rng: random.Random, index: int) -> dict[str, str]:
        tenant = self._tenant()
        return {
            "tenant": f"employer-{tenant:04d}",
            "employee_id": f"emp-{self._employee(rng, index):08d}",
            "manager_id": f"mgr-{tenant:04d}-{rng.randrange(40):02d}",
            "org_unit": f"unit-{rng.randrange(12):02d}",
        }

    @staticmethod
    def _employee(rng: random.Random, index: int) -> int:
        # One case in ten is an employee's second this year: their max date counts both.
        if index > 5_000 and rng.random() < 0.1:
            return index - rng.randint(2_000, 5_000)
        return index


def story(rng: random.Random, index: int, start: date, population: Population) -> Story:
    """Case number ``index``, its first absence day ``start``."""
    who = population.people(rng, index)
    case_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    tale = Story(case_id, who.pop("tenant"), who["employee_id"])
    shape = rng.choices(SHAPES, weights=WEIGHTS)[0]
    shape(rng, tale, start, who)
    return tale


def _opened(tale: Story, start: date, who: dict[str, str], began_with: str) -> None:
    opened = c.CaseOpened(
        case_id=tale.case_id, first_absence_day=start, began_with=began_with, **who
    )
    tale.add(start, opened)


def _end(tale: Story, day: date, percent: int = 100) -> None:
    returned = c.ReturnedToWork(
        case_id=tale.case_id, returned_on=day, extent="full", working_percent=percent
    )
    closed = c.CaseClosed(case_id=tale.case_id, closed_on=day, reason="returned_to_work")
    tale.add(day, returned, closed)


def self_certified(rng: random.Random, tale: Story, start: date, who: dict[str, str]) -> None:
    """One to three days of egenmelding, then back at work."""
    days = rng.randint(1, 3)
    last = start + timedelta(days=days - 1)
    _opened(tale, start, who, "self_certification")
    tale.add(
        start,
        c.SelfCertificationRegistered(
            case_id=tale.case_id, period_start=start, period_end=last, days=days, flagged=False
        ),
    )
    _end(tale, last + timedelta(days=1))


def short_note(rng: random.Random, tale: Story, start: date, who: dict[str, str]) -> None:
    """A sick note of up to two weeks, extended once in three cases."""
    _opened(tale, start, who, "sick_note")
    last = start + timedelta(days=rng.randint(4, 13))
    _note(tale, start, last, "n-1", received=start + timedelta(days=rng.randint(0, 2)))
    if rng.random() < 0.35:
        last += timedelta(days=7)
        tale.add(last - timedelta(days=7), _extended(tale, "n-1", last))
    _end(tale, last + timedelta(days=1))


def long_case(rng: random.Random, tale: Story, start: date, who: dict[str, str]) -> None:
    """Weeks to months: extensions every ten days, graded leave, the follow-up plan,
    the follow-up conversation and (past seven weeks) dialogue meeting 1."""
    weeks = rng.choice([3, 4, 6, 8]) if rng.random() < 0.65 else rng.randint(9, 52)
    _opened(tale, start, who, "sick_note")
    last = start + timedelta(days=13)
    _note(tale, start, last, "n-1", received=start + timedelta(days=1))
    end = start + timedelta(weeks=weeks)
    milestones = _follow_up(tale, start, end)
    while last < end:
        day, last = last, min(end, last + timedelta(days=10))
        tale.add(day, *milestones.pop(day, []), _extended(tale, "n-1", last))
        if rng.random() < 0.25 and last > day + timedelta(days=1):
            grade = rng.choice([40, 50, 60, 80])
            tale.add(
                day,
                c.GradingChanged(
                    case_id=tale.case_id,
                    sick_note_id="n-1",
                    effective_from=day + timedelta(days=1),
                    grade=grade,
                ),
            )
    for day in sorted(milestones):
        if day < end:
            tale.add(day, *milestones[day])
    _end(tale, end + timedelta(days=1))


def _follow_up(tale: Story, start: date, end: date) -> dict[date, list[BaseModel]]:
    """The employer's duties that fall inside the case, by day (week 2, 4, 7 …)."""
    due: dict[date, list[BaseModel]] = {}
    week = start + timedelta(weeks=2)
    if week < end:
        due[week] = [
            f.FollowUpConversationHeld(
                case_id=tale.case_id,
                held_on=week,
                working_day="Standing is hard.",
                what_can_change="Desk work.",
                agreed="Try desk tasks for two weeks.",
            )
        ]
    week = start + timedelta(weeks=4)
    if week < end:
        plan = f.FollowUpPlanCreated(case_id=tale.case_id, made_on=week, plan=PLAN)
        shared = f.FollowUpPlanShared(
            case_id=tale.case_id, plan_version=1, recipient="doctor", shared_on=week
        )
        due[week] = [plan, shared]
    week = start + timedelta(weeks=7)
    if week < end:
        due[week] = [
            f.DialogueMeetingHeld(
                case_id=tale.case_id,
                meeting_id="dm-1",
                meeting_number=1,
                held_on=week,
                participants=PARTICIPANTS,
                minutes="Agreed on adjusted tasks and a new evaluation.",
            )
        ]
    return due


def _note(tale: Story, start: date, last: date, note_id: str, *, received: date) -> None:
    tale.add(
        received,
        c.SickNoteReceived(
            case_id=tale.case_id,
            sick_note_id=note_id,
            period_start=start,
            period_end=last,
            grade=100,
            kind="ordinary",
            received_on=received,
        ),
    )


def _extended(tale: Story, note_id: str, last: date) -> c.SickNoteExtended:
    return c.SickNoteExtended(case_id=tale.case_id, sick_note_id=note_id, period_end=last)


PLAN = f.FollowUpPlan(
    typical_workday="Picking orders in the warehouse",
    tasks_that_can_still_be_done="Light picking, inventory counts",
    tasks_that_can_not_be_done="Heavy lifting",
    previous_facilitation="None",
    planned_facilitation="Shorter days, no lifting over 10 kg",
    follow_up="A talk every second week",
    evaluation_date=date(2026, 6, 1),
    send_plan_to_nav=False,
    send_plan_to_general_practitioner=True,
    contact_person_full_name="Kari Leder",
    contact_person_phone_number="+47 99 99 99 99",
    employee_has_contributed_to_plan=True,
)

Shape = Callable[[random.Random, Story, date, dict[str, str]], None]
SHAPES: list[Shape] = [self_certified, short_note, long_case]
WEIGHTS = [0.32, 0.28, 0.40]
