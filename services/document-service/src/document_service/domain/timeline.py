"""The case at a glance (oversikt): sick-note periods with grades and the key legal milestones.

Folded from the case's events alone, so a dossier shows what the record proves. Milestones follow
RULES.md (S = first absence day; "within N weeks" = S + 7·N - 1): the employer period ends S+15,
the follow-up plan is due S+27, dialogue meeting 1 S+48, the activity requirement S+55, dialogue
meeting 2 S+181 and the employment review S+364. Each is met, late, missed, pending, waived or not
required as of a date.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

MilestoneStatus = Literal["met", "late", "missed", "pending", "waived", "not_required", "reached"]


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    grade: int
    kind: str  # ordinary, graded, pending or self_certification


@dataclass(frozen=True)
class Milestone:
    label: str  # S+27
    obligation: str  # the deadline timeline's kind, e.g. follow_up_plan
    title: str
    due: date
    status: MilestoneStatus
    done_on: date | None = None


@dataclass
class CaseFacts:
    """What the events said, folded in order."""

    case_id: str
    employee_id: str = ""
    manager_id: str = ""
    org_unit: str = ""
    first_day: date | None = None
    closed_on: date | None = None
    notes: dict[str, list[Period]] = field(default_factory=dict)
    done: dict[str, date] = field(default_factory=dict)  # obligation → first fulfilled on
    waived: set[str] = field(default_factory=set)
    meeting_1_requested: bool = False

    def periods(self) -> list[Period]:
        return sorted((p for ps in self.notes.values() for p in ps), key=lambda p: p.start)


@dataclass(frozen=True)
class CaseGlance:
    facts: CaseFacts
    periods: list[Period]
    milestones: list[Milestone]
    as_of: date

    @property
    def status(self) -> str:
        return "closed" if self.facts.closed_on else "open"


def glance(
    case_id: str, events: Sequence[tuple[str, Mapping[str, Any]]], as_of: date
) -> CaseGlance:
    """The picture of the case as of ``as_of`` from its events (type, data) in order."""
    facts = CaseFacts(case_id)
    for event_type, data in events:
        try:
            _fold(facts, event_type, data)
        except (KeyError, TypeError, ValueError):
            continue  # a malformed event is in the record, but cannot be drawn
    return CaseGlance(facts, facts.periods(), milestones(facts, as_of), as_of)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _fold(facts: CaseFacts, event_type: str, d: Mapping[str, Any]) -> None:
    kind = event_type.removeprefix("case.")
    if kind == "opened":
        facts.employee_id, facts.manager_id = d["employee_id"], d["manager_id"]
        facts.org_unit, facts.first_day = d["org_unit"], _day(d["first_absence_day"])
    elif kind == "manager_reassigned":
        facts.manager_id = d["manager_id"]
    elif kind == "closed":
        facts.closed_on = _day(d["closed_on"])
    elif kind == "reopened":
        facts.closed_on = None
    elif kind == "obligation_waived":
        facts.waived.add(d["obligation"])
    elif kind == "dialogue_meeting_requested" and d.get("meeting_number") == 1:
        facts.meeting_1_requested = True
    else:
        _fold_periods(facts, kind, d)
        _fold_fulfilment(facts, kind, d)


def _fold_periods(facts: CaseFacts, kind: str, d: Mapping[str, Any]) -> None:
    if kind in ("sick_note_received", "sick_note_corrected"):
        period = Period(_day(d["period_start"]), _day(d["period_end"]), d["grade"], d["kind"])
        facts.notes[d["sick_note_id"]] = [period]
    elif kind == "self_certification_registered":
        start, end = _day(d["period_start"]), _day(d["period_end"])
        facts.notes[f"self-certification {start}"] = [Period(start, end, 100, "self_certification")]
    elif kind == "sick_note_extended" and facts.notes.get(d["sick_note_id"]):
        *earlier, last = facts.notes[d["sick_note_id"]]
        facts.notes[d["sick_note_id"]] = [*earlier, replace(last, end=_day(d["period_end"]))]
    elif kind == "sick_note_cancelled":
        facts.notes.pop(d["sick_note_id"], None)
    elif kind == "grading_changed" and d["sick_note_id"] in facts.notes:
        facts.notes[d["sick_note_id"]] = _regrade(
            facts.notes[d["sick_note_id"]], _day(d["effective_from"]), d["grade"]
        )


def _regrade(periods: list[Period], effective: date, grade: int) -> list[Period]:
    regraded: list[Period] = []
    for period in periods:
        if period.end < effective:
            regraded.append(period)
        elif period.start >= effective:
            regraded.append(replace(period, grade=grade))
        else:
            regraded.append(replace(period, end=effective - timedelta(days=1)))
            regraded.append(replace(period, start=effective, grade=grade))
    return regraded


_FULFILLED_BY: dict[str, tuple[str, str]] = {
    # event kind → (obligation, field with the day it happened)
    "follow_up_plan_created": ("follow_up_plan", "made_on"),
    "employment_review_decided": ("employment_review", "decided_on"),
}


def _fold_fulfilment(facts: CaseFacts, kind: str, d: Mapping[str, Any]) -> None:
    found: tuple[str, date] | None = None
    if kind in _FULFILLED_BY:
        obligation, day_field = _FULFILLED_BY[kind]
        found = (obligation, _day(d[day_field]))
    elif kind == "dialogue_meeting_held" and d.get("meeting_number") in (1, 2):
        found = (f"dialogue_meeting_{d['meeting_number']}", _day(d["held_on"]))
    elif kind == "meeting_exception_recorded":
        found = ("dialogue_meeting_2", _day(d["recorded_on"]))
    elif kind == "activity_requirement_assessed" and d.get("outcome") in ("met", "exempt"):
        found = ("activity_requirement", _day(d["assessed_on"]))
    if found is not None and found[0] not in facts.done:
        facts.done[found[0]] = found[1]


# (label, obligation, title, days after S, closed before this day → not required)
_MILESTONES: tuple[tuple[str, str, str, int, int], ...] = (
    ("S+15", "employer_period_end", "Employer period ends (arbeidsgiverperioden)", 15, 15),
    ("S+27", "follow_up_plan", "Follow-up plan (oppfølgingsplan)", 27, 27),
    ("S+48", "dialogue_meeting_1", "Dialogue meeting 1 (dialogmøte 1)", 48, 48),
    ("S+55", "activity_requirement", "Activity requirement (aktivitetsplikt)", 55, 55),
    ("S+181", "dialogue_meeting_2", "Dialogue meeting 2 (dialogmøte 2)", 181, 118),
    ("S+364", "employment_review", "Employment review after 12 months", 364, 364),
)


def milestones(facts: CaseFacts, as_of: date) -> list[Milestone]:
    if facts.first_day is None:
        return []
    start = facts.first_day
    return [
        _milestone(
            facts,
            as_of,
            label,
            obligation,
            title,
            start + timedelta(days=due_in),
            start + timedelta(days=open_until),
        )
        for label, obligation, title, due_in, open_until in _MILESTONES
    ]


def _milestone(
    facts: CaseFacts,
    as_of: date,
    label: str,
    obligation: str,
    title: str,
    due: date,
    needed_on: date,
) -> Milestone:
    done = facts.done.get(obligation) or _automatically_done(facts, obligation, due)
    status: MilestoneStatus
    if obligation in facts.waived:
        status = "waived"
    elif obligation == "employer_period_end":
        status = "reached" if as_of >= due else "pending"
    elif done is not None:
        status = "met" if done <= due else "late"
    elif _not_required(facts, obligation, needed_on):
        status = "not_required"
    else:
        status = "missed" if as_of > due else "pending"
    return Milestone(label, obligation, title, due, status, done)


def _automatically_done(facts: CaseFacts, obligation: str, due: date) -> date | None:
    # NAV counts the activity requirement as met when the employee is graded on the due day.
    if obligation != "activity_requirement":
        return None
    graded = any(p.start <= due <= p.end and p.grade < 100 for p in facts.periods())
    return due if graded else None


def _not_required(facts: CaseFacts, obligation: str, needed_on: date) -> bool:
    if facts.closed_on is not None and facts.closed_on < needed_on:
        return True
    if obligation == "dialogue_meeting_1":
        fully_sick = any(p.grade == 100 and p.kind != "self_certification" for p in facts.periods())
        return not fully_sick and not facts.meeting_1_requested
    return False
