"""The vocabulary of the timeline: obligation kinds, who owns them, their states and statuses."""

from __future__ import annotations

from enum import StrEnum


class ObligationKind(StrEnum):
    """A legal or policy obligation of a sick-leave case (the stable identifiers of RULES.md).

    - `employer_period_end`: 16th day of employer-paid absence (arbeidsgiverperioden, ftrl § 8-19)
    - `follow_up_plan`: the follow-up plan (oppfølgingsplan) within 4 weeks (aml § 4-6 (3))
    - `plan_to_doctor`: the plan shared with the doctor (sykmelder) (aml § 4-6 (3))
    - `dialogue_meeting_1`: dialogue meeting 1 (dialogmøte 1) within 7 weeks (aml § 4-6 (4))
    - `activity_requirement`: the activity requirement (aktivitetsplikt) at 8 weeks (ftrl § 8-8 (2))
    - `meeting_need_query`: NAV asks whether meeting 2 is needed at 16 weeks (syfomotebehov)
    - `revised_plan_to_nav`: the revised plan sent to NAV before meeting 2 (ftrl § 8-7a)
    - `dialogue_meeting_2`: dialogue meeting 2, called by NAV within 26 weeks (ftrl § 8-7a)
    - `dialogue_meeting_3`: dialogue meeting 3, on request (ftrl § 8-7a)
    - `week_39_notice`: NAV's letter at 39 weeks
    - `aap_application`: apply for work assessment allowance (arbeidsavklaringspenger, ftrl ch. 11)
    - `max_date`: sick pay ends (maksdato, the 248th sick-pay weekday, ftrl § 8-12)
    - `employment_review`: the employer's decision after 12 months (aml § 15-8)
    """

    EMPLOYER_PERIOD_END = "employer_period_end"
    FOLLOW_UP_PLAN = "follow_up_plan"
    PLAN_TO_DOCTOR = "plan_to_doctor"
    DIALOGUE_MEETING_1 = "dialogue_meeting_1"
    ACTIVITY_REQUIREMENT = "activity_requirement"
    MEETING_NEED_QUERY = "meeting_need_query"
    REVISED_PLAN_TO_NAV = "revised_plan_to_nav"
    DIALOGUE_MEETING_2 = "dialogue_meeting_2"
    DIALOGUE_MEETING_3 = "dialogue_meeting_3"
    WEEK_39_NOTICE = "week_39_notice"
    AAP_APPLICATION = "aap_application"
    MAX_DATE = "max_date"
    EMPLOYMENT_REVIEW = "employment_review"


class Responsible(StrEnum):
    """Who must act: the employer (arbeidsgiver), the employee (arbeidstaker) or NAV."""

    EMPLOYER = "employer"
    EMPLOYEE = "employee"
    NAV = "nav"


class State(StrEnum):
    """What the case's facts say about an obligation, whatever day it is."""

    OPEN = "open"
    FULFILLED = "fulfilled"
    NOT_REQUIRED = "not_required"
    WAIVED = "waived"


class Status(StrEnum):
    """An obligation's status on a given day.

    `upcoming`, `due_soon` (inside the reminder lead time), `overdue` (past due and not
    fulfilled; stays so on a closed case), `fulfilled`, `not_required`, `waived`.
    """

    UPCOMING = "upcoming"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    FULFILLED = "fulfilled"
    NOT_REQUIRED = "not_required"
    WAIVED = "waived"


class Stage(StrEnum):
    """The reminder stages of an open obligation (one deadline event each)."""

    APPROACHING = "approaching"
    DUE = "due"
    OVERDUE = "overdue"
