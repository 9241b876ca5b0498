"""The engine: case facts → one entry per obligation; and its status on a given day.

``plan`` needs no clock (its result can be stored); ``status_on`` and ``timeline`` take "today"
and the reminder lead time as inputs, so the API and the timers derive the same statuses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from deadline_service.domain.absence import Absence, lay_days
from deadline_service.domain.calendar import DAY
from deadline_service.domain.current_rules import RULE_BOOK
from deadline_service.domain.facts import CaseFacts
from deadline_service.domain.kinds import ObligationKind, Responsible, Stage, State, Status
from deadline_service.domain.maxdate import SickPayHistory
from deadline_service.domain.policy import DEFAULT_POLICY, Policy
from deadline_service.domain.rules import Assessment, CaseView, Rule, RuleBook

TimerKey = tuple[str, str, date]
"""A deadline timer: the obligation kind, the reminder stage and the due date."""


class Obligation(NamedTuple):
    """One obligation of a case, as the facts decide it (independent of today).

    A named tuple, not a frozen dataclass: ``plan`` makes thirteen at every event of a case,
    and a frozen dataclass sets each field through ``object.__setattr__`` (issue 8)."""

    kind: ObligationKind
    due_date: date | None
    state: State
    responsible: Responsible
    legal_basis: str
    fulfilled_by: str | None
    milestone: bool
    rule_version: str


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    obligation: Obligation
    status: Status


_NO_HISTORY = SickPayHistory()


def plan(
    facts: CaseFacts,
    policy: Policy = DEFAULT_POLICY,
    *,
    history: SickPayHistory | None = None,
    rules: RuleBook = RULE_BOOK,
) -> list[Obligation]:
    """Every obligation of the case; empty while no absence day is known."""
    return plan_laid(facts, lay_days(facts), policy, history=history, rules=rules)


def plan_laid(
    facts: CaseFacts,
    absence: Absence | None,
    policy: Policy = DEFAULT_POLICY,
    *,
    history: SickPayHistory | None = None,
    rules: RuleBook = RULE_BOOK,
) -> list[Obligation]:
    """``plan`` for a caller that laid the facts already: ``absence`` is ``lay_days(facts)``
    (not laid, nor looked up in its memo, a second time)."""
    if absence is None:
        return []
    view = CaseView(facts, absence, policy, history or _NO_HISTORY)
    return [_obligation(rule, rule.assess(view), facts) for rule in rules.for_case(absence.start)]


def _obligation(rule: Rule, found: Assessment, facts: CaseFacts) -> Obligation:
    """The rule's finding, unless waived (fravik) before it was fulfilled."""
    state, fulfilled_by = found.state, found.fulfilled_by
    if facts.waivers and state is not State.FULFILLED:
        waiver = facts.waivers.get(rule.kind)  # a StrEnum: looked up as its value
        if waiver is not None:
            state, fulfilled_by = State.WAIVED, waiver.source
    return Obligation(
        rule.kind,
        found.due_date,
        state,
        rule.responsible,
        rule.legal_basis,
        fulfilled_by,
        rule.milestone,
        rule.version,
    )


def status_on(obligation: Obligation, today: date, lead_days: int) -> Status:
    """The status on ``today``; a milestone (information) is fulfilled by reaching it."""
    if obligation.state is not State.OPEN or obligation.due_date is None:
        return Status(obligation.state.value)
    due = obligation.due_date
    if obligation.milestone and today >= due:
        return Status.FULFILLED
    if today > due:
        return Status.OVERDUE
    if today >= due - timedelta(days=lead_days):
        return Status.DUE_SOON
    return Status.UPCOMING


def timeline(
    facts: CaseFacts,
    today: date,
    policy: Policy = DEFAULT_POLICY,
    *,
    history: SickPayHistory | None = None,
    rules: RuleBook = RULE_BOOK,
) -> list[TimelineEntry]:
    """The case's timeline as it stands on ``today``."""
    lead = policy.reminder_lead_days
    return [
        TimelineEntry(o, status_on(o, today, lead))
        for o in plan(facts, policy, history=history, rules=rules)
    ]


_APPROACHING, _DUE, _OVERDUE = str(Stage.APPROACHING), str(Stage.DUE), str(Stage.OVERDUE)


def due_timers(obligations: Iterable[Obligation], lead_days: int) -> dict[TimerKey, date]:
    """Every deadline timer of the obligations and the day it fires, keyed by plain strings
    (what the timer rows and the digest hold): an open obligation with a due date is reminded
    ``lead_days`` before it and on the day, and — unless it is a milestone — the day after."""
    lead = timedelta(days=lead_days)
    timers: dict[TimerKey, date] = {}
    for obligation in obligations:
        due = obligation.due_date
        if obligation.state is not State.OPEN or due is None:
            continue
        kind = str(obligation.kind)  # a StrEnum's str() is its value, as a plain str
        timers[kind, _APPROACHING, due] = due - lead
        timers[kind, _DUE, due] = due
        if not obligation.milestone:
            timers[kind, _OVERDUE, due] = due + DAY
    return timers
