"""The engine: case facts → one entry per obligation; and its status on a given day.

``plan`` needs no clock (its result can be stored); ``status_on`` and ``timeline`` take "today"
and the reminder lead time as inputs, so the API and the timers derive the same statuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from deadline_service.domain.absence import lay_days
from deadline_service.domain.current_rules import RULE_BOOK
from deadline_service.domain.facts import CaseFacts
from deadline_service.domain.kinds import ObligationKind, Responsible, Stage, State, Status
from deadline_service.domain.maxdate import SickPayHistory
from deadline_service.domain.policy import DEFAULT_POLICY, Policy
from deadline_service.domain.rules import CaseView, RuleBook


@dataclass(frozen=True, slots=True)
class Obligation:
    """One obligation of a case, as the facts decide it (independent of today)."""

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


def plan(
    facts: CaseFacts,
    policy: Policy = DEFAULT_POLICY,
    *,
    history: SickPayHistory | None = None,
    rules: RuleBook = RULE_BOOK,
) -> list[Obligation]:
    """Every obligation of the case; empty while no absence day is known."""
    absence = lay_days(facts)
    if absence is None:
        return []
    view = CaseView(facts, absence, policy, history or SickPayHistory())
    obligations = []
    for rule in rules.for_case(absence.start):
        found = rule.assess(view)
        state, fulfilled_by = found.state, found.fulfilled_by
        waiver = facts.waivers.get(rule.kind.value)
        if waiver is not None and state is not State.FULFILLED:
            state, fulfilled_by = State.WAIVED, waiver.source
        obligations.append(
            Obligation(
                kind=rule.kind,
                due_date=found.due_date,
                state=state,
                responsible=rule.responsible,
                legal_basis=rule.legal_basis,
                fulfilled_by=fulfilled_by,
                milestone=rule.milestone,
                rule_version=rule.version,
            )
        )
    return obligations


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


def reminder_stages(obligation: Obligation, lead_days: int) -> list[tuple[Stage, date]]:
    """When each deadline event of an open obligation fires; milestones are never overdue."""
    if obligation.state is not State.OPEN or obligation.due_date is None:
        return []
    due = obligation.due_date
    stages = [(Stage.APPROACHING, due - timedelta(days=lead_days)), (Stage.DUE, due)]
    if not obligation.milestone:
        stages.append((Stage.OVERDUE, due + timedelta(days=1)))
    return stages
