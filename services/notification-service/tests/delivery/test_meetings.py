"""Dialogue meetings: invitations, changes and cancellations to those who take part; and the
night rule for the employee."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from naervaer.contracts.case import CaseClosed, CaseOpened
from naervaer.contracts.followup import (
    DialogueMeetingCancelled,
    DialogueMeetingScheduled,
    Participant,
)

from ..conftest import OSLO, Harness
from ..support import SmtpServer, deadline_payload, envelope

pytestmark = pytest.mark.integration
STARTS = datetime(2026, 3, 24, 8, 0, tzinfo=UTC)  # 09:00 in Oslo


def opened() -> CaseOpened:
    return CaseOpened(
        case_id="case-1",
        employee_id="emp-1",
        manager_id="mgr-1",
        org_unit="warehouse",
        first_absence_day=date(2026, 2, 2),
        began_with="sick_note",
    )


def scheduled(starts: datetime) -> DialogueMeetingScheduled:
    return DialogueMeetingScheduled(
        case_id="case-1",
        meeting_id="m-1",
        meeting_number=1,
        starts_at=starts,
        participants=[
            Participant(party="employee"),
            Participant(party="manager"),
            Participant(party="union_representative", party_id="tv-1"),
            Participant(party="bht"),
        ],
        employee_consented_to_doctor=False,
    )


async def test_invitation_change_and_cancellation(harness: Harness, smtp: SmtpServer) -> None:
    smtp.start()
    await harness.recipient("emp-1", email="ola@example.com", display_name="Ola", language="en")
    await harness.recipient("mgr-1", email="leder@example.com", display_name="Kari")
    await harness.recipient("tv-1", email="tillitsvalgt@example.com")
    await harness.on_case(envelope("case.opened", opened(), stream="case-1"))
    invitation = envelope("case.dialogue_meeting_scheduled", scheduled(STARTS), stream="case-1")
    await harness.on_case(invitation)
    assert not await harness.on_case(invitation)  # redelivered
    moved = scheduled(STARTS + timedelta(days=1))
    await harness.on_case(envelope("case.dialogue_meeting_scheduled", moved, stream="case-1"))
    cancelled = DialogueMeetingCancelled(
        case_id="case-1", meeting_id="m-1", meeting_number=1, reason="the employee is back"
    )
    await harness.on_case(envelope("case.dialogue_meeting_cancelled", cancelled, stream="case-1"))
    assert await harness.drain() == 9

    subjects = sorted((str(m["To"]), str(m["Subject"])) for m in smtp.messages)
    assert subjects == [
        ("Kari <leder@example.com>", "Avlyst: dialogmøte 1"),
        ("Kari <leder@example.com>", "Innkalling til dialogmøte 1, 24. mars 2026 kl. 09:00"),
        ("Kari <leder@example.com>", "Nytt tidspunkt for dialogmøte 1: 25. mars 2026 kl. 09:00"),
        ("Ola <ola@example.com>", "Cancelled: dialogue meeting 1"),
        ("Ola <ola@example.com>", "Invitation: dialogue meeting 1 on 24 March 2026 at 09:00"),
        ("Ola <ola@example.com>", "Moved: dialogue meeting 1 to 25 March 2026 at 09:00"),
        ("tillitsvalgt@example.com", "Avlyst: dialogmøte 1"),
        ("tillitsvalgt@example.com", "Innkalling til dialogmøte 1, 24. mars 2026 kl. 09:00"),
        ("tillitsvalgt@example.com", "Nytt tidspunkt for dialogmøte 1: 25. mars 2026 kl. 09:00"),
    ]
    body = next(m for m in smtp.messages if m["To"] == "tillitsvalgt@example.com")
    assert "oppfølgingen av Ola" in body.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_a_meeting_of_an_unknown_case_tells_nobody(harness: Harness) -> None:
    await harness.on_case(
        envelope("case.dialogue_meeting_scheduled", scheduled(STARTS), stream="x")
    )
    assert await harness.deliveries() == []


async def test_the_employee_is_not_messaged_at_night(harness: Harness, smtp: SmtpServer) -> None:
    smtp.start()
    await harness.recipient("emp-1", email="ola@example.com")
    await harness.recipient("mgr-1", email="leder@example.com")
    harness.clock.set(datetime(2026, 3, 10, 22, 30, tzinfo=OSLO))
    await harness.on_deadline(envelope(*deadline_payload("approaching"), stream="case-1"))
    assert await harness.drain() == 1
    assert [str(m["To"]) for m in smtp.messages] == ["leder@example.com"]
    held = next(r for r in await harness.deliveries() if r.recipient_id == "emp-1")
    assert held.status == "pending"
    assert held.send_after == datetime(2026, 3, 11, 7, 0, tzinfo=OSLO)

    harness.clock.set(datetime(2026, 3, 11, 6, 59, tzinfo=OSLO))
    assert await harness.drain() == 0
    harness.clock.set(datetime(2026, 3, 11, 7, 0, 1, tzinfo=OSLO))
    assert await harness.drain() == 1
    assert [str(m["To"]) for m in smtp.messages] == ["leder@example.com", "ola@example.com"]


async def test_a_reminder_on_a_public_holiday_waits_for_the_next_working_day(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com")
    harness.clock.set(datetime(2026, 5, 17, 9, 0, tzinfo=OSLO))  # Constitution Day, a Sunday
    await harness.on_deadline(envelope(*deadline_payload("due"), stream="case-1"))
    assert await harness.drain() == 0
    (row,) = await harness.deliveries()
    assert row.send_after == datetime(2026, 5, 18, 8, 0, tzinfo=OSLO)
    harness.clock.set(datetime(2026, 5, 18, 8, 0, 1, tzinfo=OSLO))
    assert await harness.drain() == 1


async def test_closing_the_case_cancels_reminders_still_held_back(harness: Harness) -> None:
    await harness.recipient("mgr-1", email="leder@example.com")
    harness.clock.set(datetime(2026, 3, 14, 10, 0, tzinfo=OSLO))  # Saturday
    await harness.on_deadline(envelope(*deadline_payload("due"), stream="case-1"))
    overdue = deadline_payload("overdue", "dialogue_meeting_1")
    await harness.on_deadline(envelope(*overdue, stream="case-1"))
    closed = CaseClosed(case_id="case-1", closed_on=date(2026, 3, 14), reason="returned_to_work")
    await harness.on_case(envelope("case.closed", closed, stream="case-1"))
    by_stage = {r.stage: r for r in await harness.deliveries()}
    assert by_stage["due"].status == "cancelled"
    assert by_stage["due"].last_error == "the case was closed"
    assert by_stage["overdue"].status == "pending"  # a missed duty is still escalated
