"""Who may sign a version, what they must prove, and that a decision stands."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from document_service.domain.errors import Conflict, NotAParty
from document_service.domain.signing import (
    Parties,
    SignatureDecision,
    VersionToSign,
    decide,
    missing_roles,
    role_statuses,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HASH = "a" * 64
PARTIES = Parties("emp-1", "mgr-1")


def version(**decided: SignatureDecision) -> VersionToSign:
    return VersionToSign("d-1", 1, HASH, ("employee", "manager"), decided)  # type: ignore[arg-type]


def test_a_party_signs_in_the_role_they_hold() -> None:
    made, new = decide(
        version(), PARTIES, subject="mgr-1", decision="signed", offered_hash=HASH, at=AT
    )
    assert new
    assert (made.role, made.signer_id, made.document_hash, made.decided_at) == (
        "manager",
        "mgr-1",
        HASH,
        AT,
    )
    assert made.sealed()["decided_at"] == "2026-03-02T09:00:00.000000+00:00"


def test_only_a_named_party_with_the_right_hash_may_sign() -> None:
    with pytest.raises(NotAParty):
        decide(version(), PARTIES, subject="hr-1", decision="signed", offered_hash=HASH, at=AT)
    with pytest.raises(Conflict) as refused:
        decide(version(), PARTIES, subject="emp-1", decision="signed", offered_hash="b" * 64, at=AT)
    assert refused.value.rule == "document_hash_mismatch"


def test_a_decision_stands_and_a_repeat_returns_it() -> None:
    first, _ = decide(
        version(),
        PARTIES,
        subject="emp-1",
        decision="refused",
        offered_hash=None,
        at=AT,
        comment="No.",
    )
    decided = version(employee=first)
    repeat, new = decide(
        decided,
        PARTIES,
        subject="emp-1",
        decision="refused",
        offered_hash=None,
        at=AT,
        comment="No.",
    )
    assert (repeat, new) == (first, False)
    with pytest.raises(Conflict) as changed:
        decide(decided, PARTIES, subject="emp-1", decision="signed", offered_hash=HASH, at=AT)
    assert changed.value.rule == "already_decided"


def test_missing_roles_count_refusals_as_missing() -> None:
    signed, _ = decide(
        version(), PARTIES, subject="mgr-1", decision="signed", offered_hash=HASH, at=AT
    )
    refused, _ = decide(
        version(),
        PARTIES,
        subject="emp-1",
        decision="refused",
        offered_hash=None,
        at=AT,
        comment="x",
    )
    decided = {"manager": signed, "employee": refused}
    assert role_statuses(("employee", "manager"), decided) == {
        "employee": "refused",
        "manager": "signed",
    }  # type: ignore[arg-type]
    assert missing_roles(("employee", "manager"), decided) == ["employee"]  # type: ignore[arg-type]
