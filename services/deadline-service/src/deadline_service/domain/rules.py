"""Rules versioned by the date they take effect: a new version is a new ``Rule``, never an edit.

The engine picks, per obligation kind, the version in force on the case start S.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import NamedTuple

from deadline_service.domain.absence import Absence
from deadline_service.domain.facts import CaseFacts
from deadline_service.domain.kinds import ObligationKind, Responsible, State
from deadline_service.domain.maxdate import SickPayHistory
from deadline_service.domain.policy import Policy


class Assessment(NamedTuple):
    """What a rule finds: the due date (None when there is none yet) and the state (a named
    tuple: every rule makes one at every event of its case)."""

    due_date: date | None
    state: State
    fulfilled_by: str | None = None


NOT_REQUIRED = Assessment(None, State.NOT_REQUIRED)


@dataclass(frozen=True)
class CaseView:
    """What every rule reads: the facts, the laid absence, the policy and earlier sick pay."""

    facts: CaseFacts
    absence: Absence
    policy: Policy
    history: SickPayHistory

    @property
    def start(self) -> date:
        return self.absence.start

    @cached_property
    def employer_period_end(self) -> date | None:
        return self.absence.employer_period_end()


Assess = Callable[[CaseView], Assessment]


@dataclass(frozen=True)
class Rule:
    """One version of one obligation's rule, in force from ``valid_from`` until ``valid_to``
    (exclusive; None: still in force)."""

    kind: ObligationKind
    version: str
    valid_from: date
    valid_to: date | None
    responsible: Responsible
    legal_basis: str
    assess: Assess
    milestone: bool = False
    """Information, not a duty: reaching the due date fulfils it (no overdue stage)."""

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


class RuleBook:
    """All versions of all rules; ``for_case`` gives the one version of each kind in force."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = tuple(rules)
        # The choice depends on S alone and the rules never change: chosen once per S.
        self._chosen: dict[date, tuple[Rule, ...]] = {}

    def for_case(self, start: date) -> list[Rule]:
        chosen = self._chosen.get(start)
        if chosen is None:
            chosen = self._chosen[start] = tuple(self._choose(start))
        return list(chosen)

    def _choose(self, start: date) -> list[Rule]:
        chosen: list[Rule] = []
        for kind in ObligationKind:
            versions = [r for r in self.rules if r.kind is kind and r.in_force_on(start)]
            if len(versions) != 1:
                raise LookupError(f"{len(versions)} versions of {kind} in force on {start}")
            chosen.append(versions[0])
        return chosen
