"""The rules as ftrl and aml read in 2025 (RULES.md), one ``Rule`` object per obligation.

When a law changes, add a new ``Rule`` with the date it takes effect as ``valid_from`` and give
the old one that date as ``valid_to``: cases keep the version in force on their start S.
"""

from __future__ import annotations

from datetime import date, timedelta

from deadline_service.domain.calendar import DAY, add_months, within_weeks
from deadline_service.domain.facts import Fact
from deadline_service.domain.kinds import ObligationKind as K
from deadline_service.domain.kinds import Responsible as R
from deadline_service.domain.kinds import State
from deadline_service.domain.maxdate import max_date
from deadline_service.domain.rules import (
    NOT_REQUIRED,
    Assess,
    Assessment,
    CaseView,
    Rule,
    RuleBook,
)

SINCE = date(1997, 1, 1)
"""These versions apply to every case the system holds (earlier wordings are not modelled)."""
REVISED_PLAN_DAYS_BEFORE_MEETING_2 = 7
EMPLOYMENT_REVIEW_DAYS = 364


def _due(view: CaseView, due: date, done: Fact | None = None) -> Assessment:
    """Fulfilled when done (even early or late); else open while the case runs on the due
    date, and not required when it ended before."""
    if done is not None:
        return Assessment(due, State.FULFILLED, done.source)
    if not view.absence.active_on(due):
        return Assessment(due, State.NOT_REQUIRED)
    return Assessment(due, State.OPEN)


def _first(facts: list[Fact]) -> Fact | None:
    return min(facts, key=lambda fact: fact.day) if facts else None


def employer_period_end(view: CaseView) -> Assessment:
    """Arbeidsgiverperioden ends on the 16th sick calendar day (ftrl § 8-19)."""
    end = view.employer_period_end
    return NOT_REQUIRED if end is None else Assessment(end, State.OPEN)


def follow_up_plan(view: CaseView) -> Assessment:
    """The follow-up plan (oppfølgingsplan) within 4 weeks, if the absence lasts that long."""
    made = min(view.facts.plans.values(), key=lambda p: p.day, default=None)
    return _due(view, within_weeks(view.start, 4), made)


def plan_to_doctor(view: CaseView) -> Assessment:
    """The latest plan version goes to the doctor (policy: within 7 days of being made)."""
    if not view.facts.plans:
        return NOT_REQUIRED
    version = max(view.facts.plans)
    due = view.facts.plans[version].day + timedelta(days=view.policy.plan_to_doctor_days)
    shared = [s for s in view.facts.shares if s.detail[1] == "doctor" and s.detail[0] >= version]
    return _due(view, due, _first(shared))


def dialogue_meeting_1(view: CaseView) -> Assessment:
    """Dialogmøte 1 within 7 weeks when any sick note is 100 %; on graded-only leave only when
    a party asks (due then at 7 weeks, or the policy's days after the request if later)."""
    due = within_weeks(view.start, 7)
    if not any(d.kind == "sick_note" and d.grade == 100 for d in view.absence.laid()):
        asks = [
            r
            for r in view.facts.meeting_requests.get(1, [])
            if r.detail in view.policy.meeting_1_requesters
        ]
        request = _first(asks)
        if request is None:
            return Assessment(None, State.NOT_REQUIRED)
        due = max(due, request.day + timedelta(days=view.policy.meeting_1_request_days))
    return _due(view, due, _first(view.facts.meetings_held.get(1, [])))


def activity_requirement(view: CaseView) -> Assessment:
    """Aktivitetsplikt at 8 weeks: met by an assessment (met, or exempt with its reason), or
    automatically when the employee is on graded leave that day, as NAV does."""
    due = within_weeks(view.start, 8)
    done = _first([a for a in view.facts.assessments if a.detail in ("met", "exempt")])
    if done is not None:
        return Assessment(due, State.FULFILLED, done.source)
    that_day = view.absence.day(due)
    if view.absence.active_on(due) and that_day is not None and that_day.grade < 100:
        return Assessment(due, State.FULFILLED, that_day.source)
    return _due(view, due)


def meeting_need_query(view: CaseView) -> Assessment:
    """NAV asks employer and employee whether meeting 2 is needed, at 16 weeks."""
    return _due(view, within_weeks(view.start, 16))


def _meeting_2_applies(view: CaseView) -> bool:
    """Still sick 17 weeks after S, and NAV recorded no exception (unntak)."""
    still_sick = view.absence.active_on(within_weeks(view.start, 17))
    return still_sick and view.facts.meeting_2_exception is None


def revised_plan_to_nav(view: CaseView) -> Assessment:
    """The revised plan to NAV a week before meeting 2 (when scheduled; else by S + 174)."""
    if not _meeting_2_applies(view):
        return NOT_REQUIRED
    meetings = [s for s in view.facts.scheduled.values() if s.detail == 2]
    due = within_weeks(view.start, 26) - timedelta(days=REVISED_PLAN_DAYS_BEFORE_MEETING_2)
    if meetings:
        due = meetings[-1].day - timedelta(days=REVISED_PLAN_DAYS_BEFORE_MEETING_2)
    revisions = {version for version in view.facts.plans if version >= 2}
    sent = [s for s in view.facts.shares if s.detail[1] == "nav" and s.detail[0] in revisions]
    return _due(view, due, _first(sent))


def dialogue_meeting_2(view: CaseView) -> Assessment:
    """Dialogmøte 2 within 26 weeks: held, or an exception recorded by NAV."""
    due = within_weeks(view.start, 26)
    exception = view.facts.meeting_2_exception
    if exception is not None:
        return Assessment(due, State.FULFILLED, exception.source)
    if not view.absence.active_on(within_weeks(view.start, 17)):
        return Assessment(due, State.NOT_REQUIRED)
    return _due(view, due, _first(view.facts.meetings_held.get(2, [])))


def dialogue_meeting_3(view: CaseView) -> Assessment:
    """Dialogmøte 3, when a party or NAV asks (policy: within 21 days of the request)."""
    request = _first(view.facts.meeting_requests.get(3, []))
    if request is None:
        return NOT_REQUIRED
    due = request.day + timedelta(days=view.policy.meeting_3_days)
    return _due(view, due, _first(view.facts.meetings_held.get(3, [])))


def week_39_notice(view: CaseView) -> Assessment:
    """NAV's letter at 39 weeks."""
    return _due(view, within_weeks(view.start, 39))


def aap_application(view: CaseView) -> Assessment:
    """Apply for work assessment allowance (AAP) in good time (policy: 10 months after S)."""
    due = add_months(view.start, view.policy.aap_months)
    return _due(view, due, _first(view.facts.aap_applications))


def max_date_rule(view: CaseView) -> Assessment:
    """Maksdato: the 248th sick-pay weekday (ftrl § 8-12), once the absence passes the
    employer period."""
    end = view.employer_period_end
    if end is None or not view.absence.active_on(end + DAY):
        return NOT_REQUIRED
    due = max_date(view.absence, end, view.history)
    return NOT_REQUIRED if due is None else _due(view, due)


def employment_review(view: CaseView) -> Assessment:
    """After 12 months the special protection ends: the employer decides (aml § 15-8)."""
    # RULES.md counts this one as S + 364 (the day before the anniversary in most years), not
    # as the last day of week 52.
    due = view.start + timedelta(days=EMPLOYMENT_REVIEW_DAYS)
    return _due(view, due, _first(view.facts.review_decisions))


def _rule(kind: K, responsible: R, basis: str, assess: Assess, milestone: bool = False) -> Rule:
    return Rule(kind, "2025", SINCE, None, responsible, basis, assess, milestone)


CURRENT_RULES = (
    _rule(K.EMPLOYER_PERIOD_END, R.EMPLOYER, "ftrl § 8-19", employer_period_end, True),
    _rule(K.FOLLOW_UP_PLAN, R.EMPLOYER, "aml § 4-6 (3)", follow_up_plan),
    _rule(K.PLAN_TO_DOCTOR, R.EMPLOYER, "aml § 4-6 (3)", plan_to_doctor),
    _rule(K.DIALOGUE_MEETING_1, R.EMPLOYER, "aml § 4-6 (4)", dialogue_meeting_1),
    _rule(K.ACTIVITY_REQUIREMENT, R.EMPLOYEE, "ftrl § 8-8 (2)", activity_requirement),
    _rule(K.MEETING_NEED_QUERY, R.NAV, "NAV practice (syfomotebehov)", meeting_need_query, True),
    _rule(K.REVISED_PLAN_TO_NAV, R.EMPLOYER, "ftrl § 8-7a", revised_plan_to_nav),
    _rule(K.DIALOGUE_MEETING_2, R.NAV, "ftrl § 8-7a", dialogue_meeting_2),
    _rule(K.DIALOGUE_MEETING_3, R.NAV, "ftrl § 8-7a", dialogue_meeting_3),
    _rule(K.WEEK_39_NOTICE, R.NAV, "NAV practice", week_39_notice, True),
    _rule(K.AAP_APPLICATION, R.EMPLOYEE, "ftrl ch. 11", aap_application),
    _rule(K.MAX_DATE, R.NAV, "ftrl § 8-12", max_date_rule, True),
    _rule(K.EMPLOYMENT_REVIEW, R.EMPLOYER, "aml § 15-8", employment_review),
)
RULE_BOOK = RuleBook(CURRENT_RULES)
