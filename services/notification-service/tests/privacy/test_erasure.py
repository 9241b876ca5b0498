"""Erasure (sletting): on employee.personal_data_erased everything about the cases goes, and
nothing about them is written or sent again: not on redelivery, not by a rebuild, not by the
delivery worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from naervaer.contracts.case import CaseOpened
from naervaer.contracts.employee import PersonalDataErased
from naervaer.contracts.followup import DialogueMeetingScheduled, Participant
from naervaer.envelope import Envelope
from naervaer.messaging import rebuild
from naervaer.privacy import KEYRING
from naervaer.privacy.sealer import Sealer
from notification_service.adapters.projections import CaseProjection
from notification_service.adapters.tables import consumers, erased_cases, metadata
from notification_service.app.test_send import request_test_send

from ..conftest import OSLO, Harness
from ..support import SmtpServer, deadline_payload, envelope, envelope_of, sealed

pytestmark = pytest.mark.integration
OLA = {"email": "ola@example.com", "display_name": "Ola Nordmann"}
ABOUT_OLA = ("emp-1", "Ola Nordmann", "ola@example.com")


def opened(case_id: str, employee_id: str) -> CaseOpened:
    return CaseOpened(
        case_id=case_id, employee_id=employee_id, manager_id="mgr-1", org_unit="warehouse",
        first_absence_day=date(2026, 2, 2), began_with="sick_note",
    )  # fmt: skip


def meeting(case_id: str) -> DialogueMeetingScheduled:
    return DialogueMeetingScheduled(
        case_id=case_id, meeting_id=f"m-{case_id}", meeting_number=1,
        starts_at=datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
        participants=[
            Participant(party="employee"), Participant(party="manager"),
            Participant(party="union_representative", party_id="tv-1"),
        ],
        employee_consented_to_doctor=False,
    )  # fmt: skip


def erased(key_id: str, *case_ids: str) -> Envelope:
    event = PersonalDataErased(
        key_id=key_id, case_ids=list(case_ids), erased_on=date(2029, 4, 1),
        basis="retention_expired", retention_months=36, last_closed_on=date(2026, 3, 31),
    )  # fmt: skip
    return envelope("employee.personal_data_erased", event, stream=f"employee-{key_id}")


@dataclass
class Cases:
    """Ola's case-1 (to be erased) and Per's case-2 (to be kept), as their producers sealed
    them: case events with the employee's key, deadline events with the case's key."""

    key_id: str
    case_events: list[Envelope]
    deadline_events: list[Envelope]


async def two_cases(harness: Harness) -> Cases:
    sealer = Sealer(harness.vault)
    for party, entry in (("emp-1", OLA), ("emp-2", {"email": "per@example.com"})):
        await harness.recipient(party, **entry)
    await harness.recipient("mgr-1", email="leder@example.com", display_name="Kari")
    await harness.recipient("tv-1", email="tillitsvalgt@example.com")
    case_events = []  # case-1's two, then case-2's
    for case_id, employee in (("case-1", "emp-1"), ("case-2", "emp-2")):
        for event_type, payload in (
            ("case.opened", opened(case_id, employee)),
            ("case.dialogue_meeting_scheduled", meeting(case_id)),
        ):
            event = await sealed(sealer, event_type, payload, employee_id=employee, stream=case_id)
            case_events.append(event)
            assert await harness.on_case(event)
    key_id = await harness.vault.live_key_id("acme", "emp-1")
    assert key_id is not None
    event_type, due = deadline_payload("due", "dialogue_meeting_1")
    reminder = await sealed(sealer, event_type, due, key_id=key_id, stream="case-1")
    assert await harness.on_deadline(reminder)
    return Cases(key_id, case_events, [reminder])


async def rows_holding(engine: AsyncEngine, needle: str) -> list[str]:
    """Every row of every table of the service that holds ``needle``, as text."""
    found = []
    async with engine.connect() as tx:
        for table in metadata.sorted_tables:
            for row in await tx.execute(select(table)):
                if needle in str(tuple(row)):
                    found.append(f"{table.name}: {tuple(row)}")
    return found


async def assert_nothing_about_case_1(harness: Harness) -> None:
    for needle in ABOUT_OLA:
        assert await rows_holding(harness.engine, needle) == [], needle
    tables = {row.split(":")[0] for row in await rows_holding(harness.engine, "case-1")}
    assert tables == {erased_cases.name}  # the tombstone: a case id and a destroyed key's id


def again(event: Envelope) -> Envelope:
    """The same event under a new id: as a rebuilt producer or a replay would bring it."""
    return envelope_of(event.type, dict(event.data), stream=event.streamid or "x")


async def test_erasure_deletes_everything_about_the_cases(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    cases = await two_cases(harness)
    await request_test_send(harness.engine, harness.clock, "acme", "emp-1", "email")
    assert await harness.drain() == 8  # 3 invitations per meeting, 1 reminder, 1 test
    sent = [r for r in await harness.deliveries() if r.case_id == "case-1"]
    assert {r.status for r in sent} == {"sent"}
    assert all(r.rendered_subject and r.key_id == cases.key_id for r in sent)
    assert await rows_holding(harness.engine, "Ola Nordmann")  # held until the erasure

    await harness.vault.shred(cases.key_id)  # the case service destroys the key, then tells
    assert await harness.on_case(erased(cases.key_id, "case-1"))

    await assert_nothing_about_case_1(harness)
    assert KEYRING.lookup(cases.key_id) is None
    kept = {(r.case_id, r.recipient_id) for r in await harness.deliveries()}
    assert kept == {("case-2", "emp-2"), ("case-2", "mgr-1"), ("case-2", "tv-1")}
    for party in ("emp-2", "mgr-1", "tv-1"):  # other people's entries stay
        assert await rows_holding(harness.engine, f"'{party}'"), party


async def test_nothing_comes_back_on_redelivery_or_rebuild(
    harness: Harness, smtp: SmtpServer
) -> None:
    smtp.start()
    cases = await two_cases(harness)
    await harness.vault.shred(cases.key_id)
    erasure = erased(cases.key_id, "case-1")
    assert await harness.on_case(erasure)

    for event in cases.case_events[:2]:  # case-1's
        await harness.on_case(again(event))  # personal fields now read [erased]
    for event in cases.deadline_events:
        await harness.on_deadline(again(event))
    legacy = envelope(*deadline_payload("overdue", "dialogue_meeting_1"), stream="case-1")
    await harness.on_deadline(legacy)  # in clear: the tombstone stops it
    await assert_nothing_about_case_1(harness)
    assert await harness.on_case(again(erasure))  # a repeated erasure is harmless
    await assert_nothing_about_case_1(harness)

    log = ListLog([*cases.case_events, erasure])
    projection = CaseProjection()
    assert await rebuild(projection, harness.engine, consumers, log, keys=harness.vault) == 5
    await assert_nothing_about_case_1(harness)
    assert await rows_holding(harness.engine, "'case-2'")  # the other case is rebuilt
    assert await harness.drain() == 3  # case-2's messages only
    assert {str(m["To"]) for m in smtp.messages} == {
        "per@example.com",
        "Kari <leder@example.com>",
        "tillitsvalgt@example.com",
    }


async def test_no_reminder_leaves_about_an_erased_case(harness: Harness, smtp: SmtpServer) -> None:
    smtp.start()
    await harness.recipient("mgr-1", email="leder@example.com")
    harness.clock.set(datetime(2026, 3, 14, 10, 0, tzinfo=OSLO))  # Saturday: held to Monday
    sealer = Sealer(harness.vault)
    case_opened = await sealed(
        sealer, "case.opened", opened("case-1", "emp-1"), employee_id="emp-1", stream="case-1"
    )
    await harness.on_case(case_opened)
    key_id = await harness.vault.live_key_id("acme", "emp-1")
    assert key_id is not None
    event_type, due = deadline_payload("due")
    reminder = await sealed(sealer, event_type, due, key_id=key_id, stream="case-1")
    await harness.on_deadline(reminder)
    (held,) = await harness.deliveries()
    assert (held.status, held.key_id) == ("pending", key_id)

    # The case service destroyed the key; its erasure event has not arrived here yet.
    await harness.vault.shred(key_id)
    await harness.on_deadline(again(reminder))  # a re-announcement, read with a cached key
    harness.clock.set(datetime(2026, 3, 16, 8, 0, 1, tzinfo=OSLO))
    assert await harness.drain() == 1  # tried once, and dropped: nothing sent
    assert smtp.messages == []
    assert await harness.deliveries() == []
    assert await harness.attempts() == []


class ListLog:
    """A producer's log in memory (the case service's event store, for a rebuild)."""

    def __init__(self, events: list[Envelope]) -> None:
        self._events = [
            event.model_copy(update={"globalposition": n}) for n, event in enumerate(events, 1)
        ]

    async def read_all(self, after_position: int, limit: int, /) -> list[Envelope]:
        return [e for e in self._events if (e.globalposition or 0) > after_position][:limit]

    async def head_position(self) -> int:
        return len(self._events)
