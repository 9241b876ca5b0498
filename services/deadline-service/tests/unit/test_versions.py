"""Rules are versioned by the date they take effect: the version in force on S applies."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from pydantic import TypeAdapter

from deadline_service.domain.calendar import within_weeks
from deadline_service.domain.current_rules import CURRENT_RULES
from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import State
from deadline_service.domain.rules import Assessment, CaseView, RuleBook
from deadline_service.domain.timeline import plan
from naervaer.contracts.deadline import ObligationKindName

from ..builders import CaseScript

REFORM = date(2026, 1, 1)


def _activity_at_six_weeks(view: CaseView) -> Assessment:
    """A made-up later wording, to show the mechanism: assessed at 6 weeks instead of 8."""
    return Assessment(within_weeks(view.start, 6), State.OPEN)


def _book_with_a_reform() -> RuleBook:
    rules = []
    for rule in CURRENT_RULES:
        if rule.kind is K.ACTIVITY_REQUIREMENT:
            rules.append(replace(rule, valid_to=REFORM))
            rules.append(
                replace(rule, version="2026", valid_from=REFORM, assess=_activity_at_six_weeks)
            )
        else:
            rules.append(rule)
    return RuleBook(rules)


@pytest.mark.parametrize(
    ("start", "weeks", "version"),
    [("2025-12-31", 8, "2025"), ("2026-01-01", 6, "2026"), ("2026-03-02", 6, "2026")],
)
def test_the_version_in_force_on_s_applies(start: str, weeks: int, version: str) -> None:
    """ftrl § 8-8 as a hypothetical reform would change it: a new rule, not an edit."""
    case = CaseScript(start)
    case.note(start, "2026-12-31")
    found = {o.kind: o for o in plan(case.facts(), rules=_book_with_a_reform())}
    activity = found[K.ACTIVITY_REQUIREMENT]
    assert activity.due_date == within_weeks(date.fromisoformat(start), weeks)
    assert activity.rule_version == version


def test_overlapping_versions_are_refused() -> None:
    doubled = RuleBook([*CURRENT_RULES, CURRENT_RULES[0]])
    with pytest.raises(LookupError, match="2 versions of employer_period_end"):
        doubled.for_case(date(2025, 3, 3))


def test_a_gap_between_versions_is_refused() -> None:
    ended = [replace(r, valid_to=REFORM) if r.kind is K.MAX_DATE else r for r in CURRENT_RULES]
    with pytest.raises(LookupError, match="0 versions of max_date"):
        RuleBook(ended).for_case(REFORM + timedelta(days=1))


def test_the_domain_kinds_are_the_public_contract_identifiers() -> None:
    names = TypeAdapter(ObligationKindName).json_schema()["enum"]
    assert names == [kind.value for kind in K]
