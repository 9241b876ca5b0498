"""A year of one case (S = a Monday), week by week: what the parties do, and how each act moves
the expected timeline. Everything goes through the REST APIs; day numbers are offsets from S.

Week  0  self-certification (egenmelding), S … S+2
Week  1  sick note 100 % from S+3
Week  3  the employee is invited to the follow-up conversation; it is held, the plan is made
         and signed by both; the sick note is extended to S+55
Week  5  the plan reaches the doctor a week late (plan_to_doctor overdue: HR hears, by email
         and webhook); dialogue meeting 1 is called for week 6
Week  6  dialogue meeting 1 is held; its minutes are signed by both
Week  7  NAV assesses the activity requirement: exempt for medical reasons
Week  8  graded sick leave (60 %) from S+56; an adjustment of working time starts
Week 12  the grade changes to 40 % from S+84
Week 16  the adjustment is evaluated; the graded note is extended to S+182
Week 20  NAV calls dialogue meeting 2 for S+168 (the revised plan is now due 7 days before)
Week 22  the plan is revised (version 2), signed, and shared with NAV and the doctor
Week 24  dialogue meeting 2 is held; its minutes are signed by both
Week 26  a new graded note (50 %) from S+183
Week 39  the note is extended to S+370
Week 43  the employee applies for AAP (arbeidsavklaringspenger)
Week 52  the employment review (aml § 15-8) is decided on its due day
Week 53  back at full work on S+371; the case is closed
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta

from .bodies import HR_EMAIL, at_nine, meeting_parties, note, plan, recipients
from .driver import CaseDriver

Step = Callable[[CaseDriver], Awaitable[None]]
LAST_WEEK = 53


async def tenant_setup(d: CaseDriver) -> None:
    """HR's notification settings: HR mailbox, the HR suite's webhook, the parties' addresses."""
    policy = {
        "hr_email": HR_EMAIL,
        "webhook_url": d.webhooks.url,
        "webhook_secret": d.webhooks.secret,
    }
    await d.api.call("notification", "PUT", "/v1/policy", by=d.cast.hr, body=policy)
    for party, entry in recipients(d).items():
        path = f"/v1/recipients/{party.subject}"
        await d.api.call("notification", "PUT", path, by=d.cast.hr, body=entry)


async def open_case(d: CaseDriver) -> None:
    await d.open_case(began_with="self_certification")


async def self_certify(d: CaseDriver) -> None:
    period = {"period_start": d.day(0).isoformat(), "period_end": d.day(2).isoformat()}
    await d.command("self-certifications", period, by=d.cast.employee)


async def first_sick_note(d: CaseDriver) -> None:
    await d.command("sick-notes", note(d, "sm-1", 3, 20, 100), by=d.cast.hr)
    d.expect.set("dialogue_meeting_1", due=d.day(48))  # a 100 % note: meeting 1 applies


async def extend_first_note(d: CaseDriver) -> None:
    await d.command("sick-notes/sm-1/extend", {"period_end": d.day(55).isoformat()}, by=d.cast.hr)


async def follow_up_conversation(d: CaseDriver) -> None:
    answers = {
        "held_on": d.today.isoformat(),
        "working_day": "Standing all day is hard; desk work goes well.",
        "what_can_change": "Desk tasks instead of picking.",
        "agreed": "Desk tasks four hours a day; a plan today.",
    }
    await d.command("follow-up-conversations", answers, by=d.cast.manager)


async def create_plan(d: CaseDriver) -> None:
    evaluation = (d.today + timedelta(weeks=4)).isoformat()
    await d.command("follow-up-plan", {"plan": plan(evaluation)}, by=d.cast.manager)
    d.expect.fulfil("follow_up_plan")
    d.expect.set("plan_to_doctor", due=d.today + timedelta(days=7))  # policy: 7 days


async def sign_plan_1(d: CaseDriver) -> None:
    await d.sign("follow_up_plan", 1)


async def share_plan_1_with_doctor(d: CaseDriver) -> None:
    await d.command(
        "follow-up-plan/share", {"plan_version": 1, "recipient": "doctor"}, by=d.cast.hr
    )
    d.expect.fulfil("plan_to_doctor")


async def call_meeting_1(d: CaseDriver) -> None:
    meeting = {
        "meeting_id": "dm1",
        "meeting_number": 1,
        "starts_at": at_nine(d, 42),
        "participants": meeting_parties("employee", "manager"),
    }
    await d.command("dialogue-meetings", meeting, by=d.cast.manager)
    d.expect.invite("dm1", ["employee", "manager"])


async def hold_meeting_1(d: CaseDriver) -> None:
    held = {
        "held_on": d.today.isoformat(),
        "participants": meeting_parties("employee", "manager"),
        "minutes": "Went through the plan; desk tasks continue four hours a day.",
    }
    await d.command("dialogue-meetings/dm1/hold", held, by=d.cast.manager)
    d.expect.fulfil("dialogue_meeting_1")
    await d.sign("dialogue_meeting_minutes", 1, meeting_id="dm1")


async def assess_activity(d: CaseDriver) -> None:
    assessment = {"outcome": "exempt", "exemption_reason": "medical_reasons"}
    await d.command("activity-requirement-assessments", assessment, by=d.cast.nav)
    d.expect.fulfil("activity_requirement")


async def graded_leave(d: CaseDriver) -> None:
    await d.command("sick-notes", note(d, "sm-2", 56, 111, 60), by=d.cast.hr)
    adjustment = {
        "adjustment_id": "adj-1",
        "area": "working_time",
        "description": "Works 09-13 instead of 07-15, desk tasks only.",
        "starts_on": d.day(56).isoformat(),
        "ends_on": d.day(111).isoformat(),
    }
    await d.command("adjustments", adjustment, by=d.cast.manager)


async def change_grade(d: CaseDriver) -> None:
    change = {"effective_from": d.day(84).isoformat(), "grade": 40}
    await d.command("sick-notes/sm-2/change-grading", change, by=d.cast.hr)


async def evaluate_adjustment(d: CaseDriver) -> None:
    evaluation = {"outcome": "partly_worked", "notes": "Shorter days helped; lifting still hard."}
    await d.command("adjustments/adj-1/evaluate", evaluation, by=d.cast.manager)
    await d.command("sick-notes/sm-2/extend", {"period_end": d.day(182).isoformat()}, by=d.cast.hr)


async def call_meeting_2(d: CaseDriver) -> None:
    meeting = {
        "meeting_id": "dm2",
        "meeting_number": 2,
        "starts_at": at_nine(d, 168),
        "participants": meeting_parties("employee", "manager", "nav"),
    }
    await d.command("dialogue-meetings", meeting, by=d.cast.nav)
    d.expect.invite("dm2", ["employee", "manager", "nav"])
    d.expect.set("revised_plan_to_nav", due=d.day(161))  # a week before meeting 2


async def revise_plan(d: CaseDriver) -> None:
    revised = plan(
        d.day(196).isoformat(),
        previous_facilitation="Desk tasks four hours a day; shorter days (partly worked).",
        planned_facilitation="Six hours a day from week 26, no lifting.",
        send_plan_to_nav=True,
    )
    await d.command("follow-up-plan/revise", {"based_on": 1, "plan": revised}, by=d.cast.manager)
    # The doctor must get the new version as well (policy: within 7 days).
    d.expect.set("plan_to_doctor", due=d.today + timedelta(days=7))
    await d.sign("follow_up_plan", 2)


async def share_plan_2(d: CaseDriver) -> None:
    for recipient, kind in (("nav", "revised_plan_to_nav"), ("doctor", "plan_to_doctor")):
        share = {"plan_version": 2, "recipient": recipient}
        await d.command("follow-up-plan/share", share, by=d.cast.hr)
        d.expect.fulfil(kind)


async def hold_meeting_2(d: CaseDriver) -> None:
    held = {
        "held_on": d.today.isoformat(),
        "participants": meeting_parties("employee", "manager", "nav"),
        "minutes": "NAV, employer and employee agreed on six-hour days from week 26.",
    }
    await d.command("dialogue-meetings/dm2/hold", held, by=d.cast.nav)
    d.expect.fulfil("dialogue_meeting_2")
    await d.sign("dialogue_meeting_minutes", 1, meeting_id="dm2")


async def third_note(d: CaseDriver) -> None:
    await d.command("sick-notes", note(d, "sm-3", 183, 273, 50), by=d.cast.hr)


async def extend_third_note(d: CaseDriver) -> None:
    await d.command("sick-notes/sm-3/extend", {"period_end": d.day(370).isoformat()}, by=d.cast.hr)


async def apply_for_aap(d: CaseDriver) -> None:
    await d.command("aap-applications", {"applied_on": d.today.isoformat()}, by=d.cast.hr)
    d.expect.fulfil("aap_application")


async def employment_review(d: CaseDriver) -> None:
    decision = {"decision": "continue_with_adjustment"}
    await d.command("employment-review", decision, by=d.cast.hr)
    d.expect.fulfil("employment_review")


async def return_and_close(d: CaseDriver) -> None:
    back = {"returned_on": d.today.isoformat(), "extent": "full", "working_percent": 100}
    await d.command("return-to-work", back, by=d.cast.manager)
    closing = {"closed_on": d.today.isoformat(), "reason": "returned_to_work"}
    await d.command("close", closing, by=d.cast.hr)


STORY: dict[int, list[Step]] = {
    0: [tenant_setup, open_case, self_certify],
    1: [first_sick_note],
    3: [extend_first_note, follow_up_conversation, create_plan, sign_plan_1],
    5: [share_plan_1_with_doctor, call_meeting_1],
    6: [hold_meeting_1],
    7: [assess_activity],
    8: [graded_leave],
    12: [change_grade],
    16: [evaluate_adjustment],
    20: [call_meeting_2],
    22: [revise_plan, share_plan_2],
    24: [hold_meeting_2],
    26: [third_note],
    39: [extend_third_note],
    43: [apply_for_aap],
    52: [employment_review],
    53: [return_and_close],
}


async def play_week(
    driver: CaseDriver,
    week: int,
    *,
    settle: bool = True,
    before_settling: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Move the clock to the week, let the timers fire, then act; compare after each step.

    ``before_settling`` runs right after the clock moved (e.g. a service restart while its
    timers are due). ``settle=False`` acts without waiting on the services (e.g. while one of
    them is down); ``driver.settle()`` later checks that they caught up with everything.
    """
    await driver.enter_week(week)
    if before_settling is not None:
        await before_settling()
    for step in [None, *STORY.get(week, [])]:
        if step is not None:
            await step(driver)
        if settle and driver.expect.obligations:  # nothing to compare before the case opens
            await driver.settle()


async def play(driver: CaseDriver, weeks: Iterable[int]) -> None:
    for week in weeks:
        await play_week(driver, week)
