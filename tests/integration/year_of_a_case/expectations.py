"""What the year should look like, worked out in the test from S with plain date arithmetic.

Nothing here imports the deadline service: RULES.md is restated by hand (the obligation table,
"within N weeks" = S + 7·N - 1, the statuses) and the notification README's default policy
(who hears which stage through which channel). The scenario moves the model along as it acts;
the driver compares the services with it after every step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

LEAD_DAYS = 7
"""The deadline service's default reminder lead time: approaching and due_soon start then."""
SICK_PAY_DAYS = 248
"""ftrl § 8-12: the maximum date is the 248th weekday with sick pay after the employer period."""

OPEN, FULFILLED, NOT_REQUIRED = "open", "fulfilled", "not_required"
EMPLOYER, EMPLOYEE, NAV = "employer", "employee", "nav"


class KindInfo(NamedTuple):
    responsible: str
    milestone: bool  # information, not a duty: fulfilled by reaching it, never overdue


KINDS: dict[str, KindInfo] = {  # RULES.md, "The obligations", in its order
    "employer_period_end": KindInfo(EMPLOYER, True),
    "follow_up_plan": KindInfo(EMPLOYER, False),
    "plan_to_doctor": KindInfo(EMPLOYER, False),
    "dialogue_meeting_1": KindInfo(EMPLOYER, False),
    "activity_requirement": KindInfo(EMPLOYEE, False),
    "meeting_need_query": KindInfo(NAV, True),
    "revised_plan_to_nav": KindInfo(EMPLOYER, False),
    "dialogue_meeting_2": KindInfo(NAV, False),
    "dialogue_meeting_3": KindInfo(NAV, False),
    "week_39_notice": KindInfo(NAV, True),
    "aap_application": KindInfo(EMPLOYEE, False),
    "max_date": KindInfo(NAV, True),
    "employment_review": KindInfo(EMPLOYER, False),
}


def within_weeks(start: date, weeks: int) -> date:
    """RULES.md: "within N weeks" is due on S + 7·N - 1 (the last day of week N)."""
    return start + timedelta(days=7 * weeks - 1)


def plus_months(day: date, months: int) -> date:
    """The same day ``months`` later (the last day of the month when that month is shorter)."""
    years, index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, index + 1
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return date(year, month, min(day.day, last.day))


def nth_weekday_after(day: date, n: int) -> date:
    """The ``n``-th Monday-to-Friday after ``day`` (public holidays count as weekdays)."""
    count = 0
    while count < n:
        day += timedelta(days=1)
        count += day.weekday() < 5
    return day


@dataclass
class Obligation:
    kind: str
    due: date | None
    state: str = OPEN

    @property
    def info(self) -> KindInfo:
        return KINDS[self.kind]

    def status(self, today: date) -> str:
        """RULES.md's statuses: a milestone is fulfilled by reaching it; overdue stays overdue."""
        if self.state != OPEN or self.due is None:
            return self.state
        if self.info.milestone and today >= self.due:
            return FULFILLED
        if today > self.due:
            return "overdue"
        return "due_soon" if today >= self.due - timedelta(days=LEAD_DAYS) else "upcoming"

    def reminder_days(self) -> list[tuple[str, date]]:
        """deadline.approaching at the lead time, .due on the day, .overdue the day after."""
        if self.state != OPEN or self.due is None:
            return []
        days = [("approaching", self.due - timedelta(days=LEAD_DAYS)), ("due", self.due)]
        return days if self.info.milestone else [*days, ("overdue", self.due + timedelta(days=1))]


class Reminder(NamedTuple):
    kind: str
    stage: str
    due: date


class Delivery(NamedTuple):
    """One message: what about (``obligation:kind:due`` or ``meeting:id``), to whom, how."""

    about: str
    stage: str
    audience: str
    recipient_id: str
    channel: str
    template: str


@dataclass(frozen=True)
class People:
    """The case's parties and how each is reached (the recipients the scenario registers)."""

    employee_id: str
    manager_id: str
    employee_channels: tuple[str, ...] = ("email",)
    manager_channels: tuple[str, ...] = ("email", "webhook")
    hr_channels: tuple[str, ...] = ("email", "webhook")  # the policy's default, with a webhook

    def reach(self, audience: str) -> tuple[str, tuple[str, ...]]:
        return {
            "employee": (self.employee_id, self.employee_channels),
            "manager": (self.manager_id, self.manager_channels),
            "hr": ("hr", self.hr_channels),
        }[audience]


# The notification README's default policy: the employer's duties go to the nearest manager
# before and on the day, and escalate to HR when missed; two notices go to the employee.
EMPLOYER_STAGES = {
    "approaching": ("manager", "obligation_approaching"),
    "due": ("manager", "obligation_due"),
    "overdue": ("hr", "obligation_overdue"),
}
EMPLOYEE_NOTICES = {
    "follow_up_plan": "follow_up_invitation",
    "activity_requirement": "activity_requirement_notice",
}


def opened_case(start: date) -> dict[str, Obligation]:
    """The timeline right after the case opened on S, before any sick note (projected on)."""
    employer_period_end = start + timedelta(days=15)
    dues: dict[str, date | None] = {
        "employer_period_end": employer_period_end,
        "follow_up_plan": within_weeks(start, 4),
        "plan_to_doctor": None,  # no plan yet
        "dialogue_meeting_1": None,  # no 100 % sick note yet
        "activity_requirement": within_weeks(start, 8),
        "meeting_need_query": within_weeks(start, 16),
        "revised_plan_to_nav": within_weeks(start, 26) - timedelta(days=7),
        "dialogue_meeting_2": within_weeks(start, 26),
        "dialogue_meeting_3": None,  # nobody asked
        "week_39_notice": within_weeks(start, 39),
        "aap_application": plus_months(start, 10),
        "max_date": nth_weekday_after(employer_period_end, SICK_PAY_DAYS),
        "employment_review": start + timedelta(days=364),
    }
    return {
        kind: Obligation(kind, due, OPEN if due is not None else NOT_REQUIRED)
        for kind, due in dues.items()
    }


@dataclass
class Expectations:
    """The expected state of the world; ``fired`` and ``deliveries`` only ever grow."""

    start: date
    people: People
    today: date
    obligations: dict[str, Obligation] = field(default_factory=dict)
    fired: set[Reminder] = field(default_factory=set)
    deliveries: Counter[Delivery] = field(default_factory=Counter)

    def open_case(self) -> None:
        self.obligations = opened_case(self.start)
        self._fire()

    def move_to(self, today: date) -> None:
        self.today = today
        self._fire()

    def set(self, kind: str, *, due: date | None = None, state: str = OPEN) -> None:
        """An obligation changed: a new due date (``None`` keeps it) and/or state."""
        obligation = self.obligations[kind]
        obligation.due = due or obligation.due
        obligation.state = state
        self._fire()

    def fulfil(self, kind: str) -> None:
        self.set(kind, state=FULFILLED)

    def invite(self, meeting_id: str, parties: list[str]) -> None:
        """A dialogue meeting was called: the employee always hears, the others who take part."""
        audiences = ["employee", *(p for p in ("manager", "hr") if p in parties)]
        for audience in audiences:
            self._deliver(f"meeting:{meeting_id}", "invited", audience, "meeting_invitation")

    def timeline(self) -> dict[str, tuple[str | None, str, str]]:
        """kind → (due date, status today, responsible), as GET …/timeline should show it."""
        return {
            kind: (o.due.isoformat() if o.due else None, o.status(self.today), o.info.responsible)
            for kind, o in self.obligations.items()
        }

    def count(self, channel: str) -> int:
        return sum(n for d, n in self.deliveries.items() if d.channel == channel)

    def _fire(self) -> None:
        """Every stage whose day has come fires once, while its obligation is still open."""
        for obligation in self.obligations.values():
            for stage, day in obligation.reminder_days():
                assert obligation.due is not None
                reminder = Reminder(obligation.kind, stage, obligation.due)
                if day <= self.today and reminder not in self.fired:
                    self.fired.add(reminder)
                    self._remind(reminder, obligation.info)

    def _remind(self, reminder: Reminder, info: KindInfo) -> None:
        about = f"obligation:{reminder.kind}:{reminder.due.isoformat()}"
        if info.responsible == EMPLOYER:
            audience, template = EMPLOYER_STAGES[reminder.stage]
            self._deliver(about, reminder.stage, audience, template)
        notice = EMPLOYEE_NOTICES.get(reminder.kind)
        if notice is not None and reminder.stage == "approaching":
            self._deliver(about, reminder.stage, "employee", notice)

    def _deliver(self, about: str, stage: str, audience: str, template: str) -> None:
        recipient_id, channels = self.people.reach(audience)
        for channel in channels:
            self.deliveries[Delivery(about, stage, audience, recipient_id, channel, template)] += 1
