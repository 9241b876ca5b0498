"""The story: one sick-leave case (sykefraværstilfelle) at a warehouse, over a year.

Each scene is a day (09:00 in Oslo, when the dev clock is moved there) and what the people of
the case do that day through the REST APIs. The bodies are the ones the services document;
``{case}`` in a path is the id the case service gave the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from naervaer.demo.hosting import Actor

OSLO = ZoneInfo("Europe/Oslo")
TENANT = "fjord-logistikk"
HR = Actor("Hanne (HR)", "hr", "hr-1")
NAV = Actor("NAV", "nav", "nav-1")


@dataclass(frozen=True)
class Cast:
    """The people of this run (the employee's id is new each run, so a kept data folder can
    hold several demo cases)."""

    employee: Actor
    manager: Actor

    @classmethod
    def for_run(cls, run: str) -> Cast:
        return cls(
            employee=Actor("Ola Nordmann", "employee", f"emp-{run}"),
            manager=Actor("Kari Hansen", "manager", "mgr-17"),
        )


@dataclass(frozen=True)
class Call:
    """One request: who makes it, to which service, and what it means in the story."""

    actor: Actor
    service: str
    method: str
    path: str
    body: dict[str, Any] | None
    says: str


@dataclass(frozen=True)
class Sign:
    """Both parties sign the latest version of the case's document of ``kind``."""

    kind: str
    says: str


Step = Call | Sign


@dataclass(frozen=True)
class Scene:
    """A day of the story: what happens, and a note for the reader (shown under the title)."""

    day: date
    title: str
    steps: tuple[Step, ...] = ()
    note: str = ""

    @property
    def moment(self) -> datetime:
        return datetime.combine(self.day, time(9, 0), OSLO)


PLAN: dict[str, Any] = {
    "typical_workday": "Picking orders on the warehouse floor, 7.5 hours standing.",
    "tasks_that_can_still_be_done": "Stock counts and training new staff, seated.",
    "tasks_that_can_not_be_done": "Lifting above 10 kg.",
    "previous_facilitation": "None yet.",
    "planned_facilitation": "Desk tasks in the mornings, four hours a day.",
    "follow_up": "A short talk with Kari every Monday.",
    "evaluation_date": "2026-03-16",
    "send_plan_to_nav": False,
    "send_plan_to_general_practitioner": True,
    "contact_person_full_name": "Kari Hansen",
    "contact_person_phone_number": "+47 400 00 000",
    "employee_has_contributed_to_plan": True,
}


def setup(cast: Cast, first_day: date) -> tuple[Step, ...]:
    """HR's address book and policy, then the case itself (its id is known after this)."""
    people = (
        (cast.employee, "ola.nordmann@fjordlogistikk.example"),
        (cast.manager, "kari.hansen@fjordlogistikk.example"),
    )
    return (
        Call(HR, "notification", "PUT", "/v1/policy", {
            "hr_email": "hr@fjordlogistikk.example", "hr_language": "en",
            "default_language": "en", "hr_channels": ["email"],
        }, "sets the reminder policy: missed duties escalate to hr@fjordlogistikk.example"),
        *(
            Call(HR, "notification", "PUT", f"/v1/recipients/{actor.sub}",
                 {"display_name": actor.name, "email": email, "language": "en"},
                 f"adds {actor.name} <{email}> to the address book")
            for actor, email in people
        ),
        Call(HR, "case", "POST", "/v1/cases", {
            "employee_id": cast.employee.sub, "manager_id": cast.manager.sub,
            "org_unit": "warehouse-north", "first_absence_day": first_day.isoformat(),
            "began_with": "self_certification",
        }, f"opens the case: {cast.employee.name} is away from today"),
    )  # fmt: skip


def scenes(cast: Cast) -> tuple[Scene, ...]:
    """The year, scene by scene (S = Monday 5 January 2026, the first day of absence)."""
    ola, kari = cast.employee, cast.manager
    case = "/v1/cases/{case}"
    return (
        Scene(date(2026, 1, 5), "Day 1 · Ola calls in sick", (
            *setup(cast, date(2026, 1, 5)),
            Call(ola, "case", "POST", f"{case}/self-certifications",
                 {"period_start": "2026-01-05", "period_end": "2026-01-07"},
                 "self-certifies three days (egenmelding)"),
        )),
        Scene(date(2026, 1, 8), "Day 4 · a sick note, 100 %", (
            Call(HR, "case", "POST", f"{case}/sick-notes", {
                "sick_note_id": "n-1", "period_start": "2026-01-08",
                "period_end": "2026-02-08", "grade": 100, "kind": "ordinary",
            }, "registers the doctor's sick note (sykmelding), 100 % to 8 February"),
        )),
        Scene(date(2026, 1, 12), "Week 2 · the first talk", (
            Call(kari, "case", "POST", f"{case}/follow-up-conversations", {
                "held_on": "2026-01-12", "working_day": "Standing all day is too much.",
                "what_can_change": "Seated tasks, shorter days.", "agreed": "Try desk tasks.",
            }, "records the follow-up conversation with Ola"),
        )),
        Scene(date(2026, 1, 26), "Week 4 · the follow-up plan (oppfølgingsplan)", (
            Call(kari, "case", "POST", f"{case}/follow-up-plan", {"plan": PLAN},
                 "writes the follow-up plan with Ola"),
            Sign("follow_up_plan", "sign the plan"),
        )),
        Scene(date(2026, 2, 9), "Week 6 · graded sick leave, and a late plan", (
            Call(HR, "case", "POST", f"{case}/sick-notes", {
                "sick_note_id": "n-2", "period_start": "2026-02-09",
                "period_end": "2026-07-19", "grade": 50, "kind": "graded",
            }, "registers a graded sick note: 50 % to 19 July"),
            Call(HR, "case", "POST", f"{case}/follow-up-plan/share",
                 {"plan_version": 1, "recipient": "doctor"},
                 "sends the plan to the doctor, a week late"),
            Call(kari, "case", "POST", f"{case}/dialogue-meetings", {
                "meeting_id": "m-1", "meeting_number": 1,
                "starts_at": "2026-02-16T10:00:00+01:00",
                "participants": [{"party": "employee"}, {"party": "manager"}],
            }, "invites Ola to dialogue meeting 1 (dialogmøte 1) on 16 February"),
        )),
        Scene(date(2026, 2, 16), "Week 7 · dialogue meeting 1", (
            Call(kari, "case", "POST", f"{case}/dialogue-meetings/m-1/hold", {
                "held_on": "2026-02-16",
                "participants": [{"party": "employee"}, {"party": "manager"}],
                "minutes": "Desk tasks work well. Mornings only until mid-March.",
            }, "holds the meeting and writes the minutes"),
            Sign("dialogue_meeting_minutes", "sign the minutes (referat)"),
            Call(kari, "case", "POST", f"{case}/adjustments", {
                "adjustment_id": "a-1", "area": "working_time",
                "description": "Works 08-12 with desk tasks only.",
                "starts_on": "2026-02-16", "ends_on": "2026-03-15",
            }, "records the adjustment (tilrettelegging): mornings, desk tasks"),
        )),
        Scene(date(2026, 2, 19), "Week 7 · the activity requirement (aktivitetsplikt)", (
            Call(NAV, "case", "POST", f"{case}/activity-requirement-assessments",
                 {"outcome": "met"}, "assesses the activity requirement: met"),
        )),
        Scene(date(2026, 3, 16), "Week 11 · the adjustment is evaluated", (
            Call(kari, "case", "POST", f"{case}/adjustments/a-1/evaluate",
                 {"outcome": "worked", "notes": "Ola manages four hours; next step six."},
                 "evaluates the adjustment: it worked"),
        )),
        Scene(date(2026, 6, 1), "Week 22 · NAV calls dialogue meeting 2", (
            Call(NAV, "case", "POST", f"{case}/dialogue-meetings", {
                "meeting_id": "m-2", "meeting_number": 2,
                "starts_at": "2026-06-22T10:00:00+02:00",
                "participants": [{"party": "employee"}, {"party": "manager"},
                                 {"party": "nav"}],
            }, "calls dialogue meeting 2 on 22 June"),
            Call(kari, "case", "POST", f"{case}/follow-up-plan/revise",
                 {"based_on": 1, "plan": {**PLAN, "planned_facilitation": "Six hours a day."}},
                 "revises the plan: six hours a day"),
            Call(HR, "case", "POST", f"{case}/follow-up-plan/share",
                 {"plan_version": 2, "recipient": "nav"}, "sends the revised plan to NAV"),
        ), "The revised plan must reach the doctor within a week too."),
        Scene(date(2026, 6, 8), "Week 23 · reminded, on time", (
            Call(HR, "case", "POST", f"{case}/follow-up-plan/share",
                 {"plan_version": 2, "recipient": "doctor"},
                 "sends the revised plan to the doctor on the day it is due"),
        )),
        Scene(date(2026, 6, 22), "Week 25 · dialogue meeting 2", (
            Call(NAV, "case", "POST", f"{case}/dialogue-meetings/m-2/hold", {
                "held_on": "2026-06-22",
                "participants": [{"party": "employee"}, {"party": "manager"},
                                 {"party": "nav"}],
                "minutes": "Full days from 20 July are realistic.",
            }, "holds dialogue meeting 2"),
        )),
        Scene(date(2026, 7, 20), "Week 29 · back at work (friskmeldt)", (
            Call(kari, "case", "POST", f"{case}/return-to-work",
                 {"returned_on": "2026-07-20", "extent": "full", "working_percent": 100},
                 "records that Ola is back full time"),
            Call(HR, "case", "POST", f"{case}/close",
                 {"closed_on": "2026-07-20", "reason": "returned_to_work"}, "closes the case"),
        )),
        Scene(date(2027, 1, 11), "A year on", (), "The case is closed: no timer fires, "
              "no reminder goes out, and the record stays as it was."),
    )  # fmt: skip
