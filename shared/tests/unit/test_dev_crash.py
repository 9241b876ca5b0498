"""The development switch NAERVAER_DEV_CRASH_BEFORE_ACK: which messages it dies on, and that
production refuses it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from naervaer.envelope import Envelope
from naervaer.messaging import IncomingMessage, Subscription
from naervaer.messaging.dev_crash import crash_before_ack
from naervaer.settings import PlatformSettings

CONSUMER = "document-service.case-events"


async def _ignore(_tx: AsyncConnection, _envelope: Envelope) -> None:
    return None


SUBSCRIPTION = Subscription(
    name=CONSUMER,
    topics=("naervaer.case-events",),
    handler=_ignore,
    event_types=frozenset({"case.opened"}),
)


def message(event_type: str) -> IncomingMessage:
    envelope = Envelope(
        id=uuid.uuid4(),
        source="/case-service",
        type=event_type,
        subject="case-1",
        time=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
        dataschema=f"schemas/{event_type}/v1.json",
        data={},
        tenant="acme",
        streamid="case-1",
        streamversion=1,
    )
    return IncomingMessage("naervaer.case-events", 0, 7, b"case-1", envelope.to_json_bytes())


class Deaths:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def test_production_refuses_the_switch() -> None:
    with pytest.raises(ValidationError, match="refused in production"):
        PlatformSettings(environment="production", dev_crash_before_ack=CONSUMER)


def test_development_takes_it_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAERVAER_DEV_CRASH_BEFORE_ACK", CONSUMER)
    assert PlatformSettings().dev_crash_before_ack == CONSUMER


@pytest.mark.parametrize("chosen", [None, "deadline-service.timeline"])
def test_no_hook_for_a_consumer_not_chosen(chosen: str | None) -> None:
    assert crash_before_ack(SUBSCRIPTION, chosen) is None


def test_the_chosen_consumer_dies_on_the_first_message_it_handles() -> None:
    deaths = Deaths()
    hook = crash_before_ack(SUBSCRIPTION, CONSUMER, die=deaths)
    assert hook is not None

    assert hook(message("case.opened")) is True
    assert deaths.count == 1


@pytest.mark.parametrize(
    "incoming",
    [
        message("case.sick_note_received"),  # skipped: a type the consumer does not want
        IncomingMessage("naervaer.case-events", 0, 8, None, b"not an envelope"),
    ],
)
def test_messages_without_a_handler_transaction_do_not_trigger_it(
    incoming: IncomingMessage,
) -> None:
    deaths = Deaths()
    hook = crash_before_ack(SUBSCRIPTION, CONSUMER, die=deaths)
    assert hook is not None

    assert hook(incoming) is False
    assert deaths.count == 0
