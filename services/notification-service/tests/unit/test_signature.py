"""Webhook signatures: what the sender signs is what the receiver's ``verify`` accepts."""

from __future__ import annotations

import json
import uuid

import pytest

from notification_service.adapters.channels.base import Outgoing
from notification_service.adapters.channels.webhook import body_of
from notification_service.adapters.rendering import RenderedMessage
from notification_service.domain.retry import RetryPolicy
from notification_service.domain.signature import SignatureInvalid, sign, verify

SECRET = "s3cret-s3cret-s3cret"
NOW = 1_780_000_000


def body(timestamp: int = NOW) -> bytes:
    outgoing = Outgoing(
        delivery_id=uuid.uuid4(), tenant="acme", case_id="c-1", audience="hr", recipient_id="hr",
        stage="overdue", template="obligation_overdue", language="nb",
        message=RenderedMessage("Emne", "Tekst\n", "<p>x</p>\n", "sms"),
        facts={"kind": "follow_up_plan", "due_date": "2026-03-17"},
    )  # fmt: skip
    return body_of(outgoing, timestamp)


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    raw = body()
    signature = sign(SECRET, raw)
    assert signature.startswith("sha256=")
    assert len(signature) == 7 + 64
    payload = verify(SECRET, raw, signature, now=NOW + 10)
    assert payload["facts"] == {"kind": "follow_up_plan", "due_date": "2026-03-17"}
    assert "html" not in payload  # the HR suite gets text, subject and facts


@pytest.mark.parametrize(
    "tamper",
    [
        lambda raw, sig: (raw.replace(b"Emne", b"Emme"), sig),
        lambda raw, sig: (raw, sign("another-secret-entirely", raw)),
        lambda raw, sig: (raw, None),
        lambda raw, sig: (raw, sig.upper()),
    ],
)
def test_anything_else_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    raw = body()
    changed, signature = tamper(raw, sign(SECRET, raw))
    with pytest.raises(SignatureInvalid):
        verify(SECRET, changed, signature, now=NOW)


def test_an_old_request_is_a_replay() -> None:
    raw = body(timestamp=NOW - 3600)
    with pytest.raises(SignatureInvalid, match="timestamp"):
        verify(SECRET, raw, sign(SECRET, raw), now=NOW)
    assert json.loads(raw)["timestamp"] == NOW - 3600


def test_full_jitter_backoff() -> None:
    policy = RetryPolicy(base_s=2.0, cap_s=60.0, max_attempts=4)
    ceilings = [policy.delay_s(n, uniform=lambda low, high: high) for n in (1, 2, 3, 6, 20)]
    assert ceilings == [2.0, 4.0, 8.0, 60.0, 60.0]
    assert policy.delay_s(3, uniform=lambda low, high: low) == 0.0
    assert not policy.gives_up_after(3)
    assert policy.gives_up_after(4)
    with pytest.raises(ValueError, match="base_s"):
        RetryPolicy(base_s=0)
