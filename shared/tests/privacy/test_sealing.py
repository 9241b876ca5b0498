"""Sealing personal fields: round trip, shape kept, erased once the key is gone, tamper-evident."""

from __future__ import annotations

import os
from datetime import date

import pytest
from pydantic import BaseModel, Field

from naervaer.contracts.case import CaseOpened
from naervaer.privacy import (
    ERASED,
    PersonalStr,
    seal_data,
    seal_plan,
    sealed_key_ids,
    sealing_key_id,
    unseal_data,
)
from naervaer.privacy.sealing import is_sealed

KEY_ID = "0" * 31 + "1"
KEY = os.urandom(32)


class Participant(BaseModel):
    role: str
    party_id: PersonalStr | None = None


class Meeting(BaseModel):
    case_id: str
    held_on: date
    minutes: PersonalStr = Field(min_length=1)
    notes: list[PersonalStr] = []
    participants: list[Participant] = []


MEETING = Meeting(
    case_id="c-1",
    held_on=date(2026, 3, 2),
    minutes="Kari Nordmann can work mornings",
    notes=["first", "second"],
    participants=[Participant(role="employee", party_id="kari"), Participant(role="hr")],
)


def sealed_meeting() -> dict[str, object]:
    return seal_data(MEETING.model_dump(mode="json"), seal_plan(Meeting), key_id=KEY_ID, key=KEY)


def test_the_plan_names_personal_fields_at_any_depth() -> None:
    assert seal_plan(Meeting) == {
        "minutes": True,
        "notes": True,
        "participants": {"party_id": True},
    }


def test_personal_fields_are_sealed_and_structure_stays_in_clear() -> None:
    sealed = sealed_meeting()
    assert sealed["case_id"] == "c-1"
    assert sealed["held_on"] == "2026-03-02"
    assert is_sealed(sealed["minutes"])
    assert all(is_sealed(note) for note in sealed["notes"])  # type: ignore[attr-defined]
    parts = sealed["participants"]
    assert is_sealed(parts[0]["party_id"])  # type: ignore[index]
    assert parts[1]["party_id"] is None  # type: ignore[index]
    assert "Kari" not in repr(sealed)
    assert sealed_key_ids(sealed) == {KEY_ID}


def test_sealed_values_open_with_the_key() -> None:
    opened = unseal_data(sealed_meeting(), {KEY_ID: KEY}.get)
    assert Meeting.model_validate(opened) == MEETING


def test_without_the_key_every_sealed_value_reads_as_erased_and_still_validates() -> None:
    opened = unseal_data(sealed_meeting(), lambda _key_id: None)
    meeting = Meeting.model_validate(opened)
    assert meeting.minutes == ERASED
    assert meeting.notes == [ERASED, ERASED]
    assert meeting.participants[0].party_id == ERASED
    assert meeting.held_on == MEETING.held_on


def test_a_token_moved_to_another_field_fails_authentication() -> None:
    sealed = sealed_meeting()
    sealed["notes"] = [sealed["minutes"], sealed["minutes"]]
    with pytest.raises(ValueError, match="fails authentication"):
        unseal_data(sealed, {KEY_ID: KEY}.get)


def test_the_same_text_seals_differently_each_time() -> None:
    first, second = sealed_meeting(), sealed_meeting()
    assert first["minutes"] != second["minutes"]


def test_contracts_mark_who_the_case_is_about() -> None:
    assert seal_plan(CaseOpened) == {"employee_id": True, "manager_id": True}


def test_the_sealing_key_is_named_by_the_sealed_values() -> None:
    assert sealing_key_id(sealed_meeting()) == KEY_ID
    assert sealing_key_id(MEETING.model_dump(mode="json")) is None
