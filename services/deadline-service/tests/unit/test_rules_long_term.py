"""The long end of a case, one table per obligation (S is Monday 2025-03-03)."""

from __future__ import annotations

from collections.abc import Callable

from deadline_service.domain.policy import Policy

from ..builders import CaseScript
from .test_rules import DONE, NO, OPEN, Row, check, ended, sick, table


@table(
    Row("open-case", lambda c: (sick(c), None)[1], "2025-06-22", OPEN),
    Row("closed-before", lambda c: ended("2025-06-01")(c), "2025-06-22", NO),
)
def test_meeting_need_query_nav_practice(row: Row) -> None:
    """NAV practice (syfomotebehov): NAV asks about meeting 2 at 16 weeks (S + 111)."""
    check("meeting_need_query", row)


def _scheduled(day: str, *, cancel: bool = False) -> Callable[[CaseScript], None]:
    def script(case: CaseScript) -> None:
        sick(case)
        case.schedule_meeting(2, "m2", day)
        if cancel:
            case.cancel_meeting(2, "m2")

    return script


def _held_as_scheduled(case: CaseScript) -> None:
    _scheduled("2025-08-20")(case)
    case.hold_meeting(2, "2025-08-20", meeting_id="m2")


def _revision_shared(version: int) -> Callable[[CaseScript], str | None]:
    def script(case: CaseScript) -> str | None:
        sick(case)
        case.plan("2025-03-20")
        if version == 2:
            case.plan("2025-08-01", version=2)
        shared = case.share(version, "nav", "2025-08-05")
        return shared if version == 2 else None

    return script


@table(
    Row("not-scheduled", lambda c: (sick(c), None)[1], "2025-08-24", OPEN),
    Row("meeting-2-scheduled", _scheduled("2025-08-20"), "2025-08-13", OPEN),
    Row("scheduled-then-cancelled", _scheduled("2025-08-20", cancel=True), "2025-08-24", OPEN),
    # Regression: holding the meeting moved the due date back to S + 174 (re-arming reminders).
    Row("meeting-2-held-as-scheduled", _held_as_scheduled, "2025-08-13", OPEN),
    Row("revision-shared-with-nav", _revision_shared(2), "2025-08-24", DONE),
    Row("first-version-only", _revision_shared(1), "2025-08-24", OPEN),
    Row("nav-exception", lambda c: (sick(c), c.meeting_exception("2025-06-10"), None)[2], None, NO),
    Row("closed-before-17-weeks", lambda c: ended("2025-06-20")(c), None, NO),
)
def test_revised_plan_to_nav_ftrl_8_7a(row: Row) -> None:
    """ftrl § 8-7a: the revised plan to NAV a week before meeting 2 (else S + 174)."""
    check("revised_plan_to_nav", row)


@table(
    Row("open-case", lambda c: (sick(c), None)[1], "2025-08-31", OPEN),
    Row("held", lambda c: (sick(c), c.hold_meeting(2, "2025-08-20"))[1], "2025-08-31", DONE),
    Row(
        "nav-exception",
        lambda c: (sick(c), c.meeting_exception("2025-06-10"))[1],
        "2025-08-31",
        DONE,
    ),
    Row("closed-before-17-weeks", lambda c: ended("2025-06-20")(c), "2025-08-31", NO),
    Row("closed-after-17-weeks", lambda c: ended("2025-07-15")(c), "2025-08-31", NO),
)
def test_dialogue_meeting_2_ftrl_8_7a(row: Row) -> None:
    """ftrl § 8-7a: NAV's meeting 2 within 26 weeks, for cases still running at 17 weeks."""
    check("dialogue_meeting_2", row)


def _meeting_3(held: bool) -> Callable[[CaseScript], str | None]:
    def script(case: CaseScript) -> str | None:
        sick(case)
        case.request_meeting(3, "nav", "2025-09-01")
        return case.hold_meeting(3, "2025-09-15") if held else None

    return script


@table(
    Row("not-requested", lambda c: (sick(c), None)[1], None, NO),
    Row("requested", _meeting_3(False), "2025-09-22", OPEN),
    Row("held", _meeting_3(True), "2025-09-22", DONE),
    Row("tenant-policy-30-days", _meeting_3(False), "2025-10-01", OPEN, Policy(meeting_3_days=30)),
)
def test_dialogue_meeting_3_ftrl_8_7a(row: Row) -> None:
    """ftrl § 8-7a: meeting 3 on request (policy: within 21 days)."""
    check("dialogue_meeting_3", row)


@table(
    Row("open-case", lambda c: (sick(c), None)[1], "2025-11-30", OPEN),
    Row("closed-before", lambda c: ended("2025-11-01")(c), "2025-11-30", NO),
)
def test_week_39_notice_nav_practice(row: Row) -> None:
    """NAV practice: the letter at 39 weeks (S + 272)."""
    check("week_39_notice", row)


@table(
    Row("open-case", lambda c: (sick(c), None)[1], "2026-01-03", OPEN),
    Row("applied", lambda c: (sick(c), c.aap("2025-12-01"))[1], "2026-01-03", DONE),
    Row(
        "tenant-policy-9-months",
        lambda c: (sick(c), None)[1],
        "2025-12-03",
        OPEN,
        Policy(aap_months=9),
    ),
    Row("closed-before", lambda c: ended("2025-12-01")(c), "2026-01-03", NO),
)
def test_aap_application_ftrl_chapter_11(row: Row) -> None:
    """ftrl ch. 11: apply for AAP in good time before the max date (policy: 10 months)."""
    check("aap_application", row)


@table(
    Row("open-case", lambda c: (sick(c), None)[1], "2026-03-02", OPEN),
    Row("decided", lambda c: (sick(c), c.review("2026-02-20"))[1], "2026-03-02", DONE),
    Row("closed-before", lambda c: ended("2026-01-15")(c), "2026-03-02", NO),
)
def test_employment_review_aml_15_8(row: Row) -> None:
    """aml § 15-8: the employer decides after 12 months (S + 364)."""
    check("employment_review", row)
