"""The audit trail's hash chain: sealed entries verify, and each kind of tampering is named."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from naervaer.dossier.chain import (
    GENESIS,
    ChainEntry,
    ChainHead,
    content_hash,
    entry_hash,
    seal,
    verify_chain,
)
from naervaer.dossier.keys import KeyRing, PublicKey, key_id_of, raw_public_key, sign

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.generate()
RAW = raw_public_key(KEY.public_key())
RING = KeyRing([PublicKey(RAW, not_before=T0 - timedelta(days=1))])


def chain(
    n: int, key: Ed25519PrivateKey = KEY, *, start: int = 1, previous: str = GENESIS
) -> list[ChainEntry]:
    entries = []
    for sequence in range(start, start + n):
        content = {
            "kind": "case.opened",
            "source_id": f"event:{sequence}",
            "case_id": "c-1",
            "data": {"n": sequence},
        }
        at = T0 + timedelta(minutes=sequence)
        sealed = seal(
            tenant="acme",
            sequence=sequence,
            recorded_at=at,
            previous_hash=previous,
            content=content,
            key_id=key_id_of(raw_public_key(key.public_key())),
            sign=lambda message, key=key: sign(key, message),  # type: ignore[misc]
        )
        entries.append(
            ChainEntry(
                "acme",
                sequence,
                at,
                sealed.previous_hash,
                sealed.content_hash,
                sealed.entry_hash,
                sealed.key_id,
                sealed.signature,
                content,
                {"case_id": "c-1"},
            )
        )
        previous = sealed.entry_hash
    return entries


def found(
    entries: list[ChainEntry], ring: KeyRing = RING, **kwargs: object
) -> list[tuple[int, str]]:
    verdict = verify_chain(entries, ring, **kwargs)  # type: ignore[arg-type]
    return [(p.sequence, p.problem) for p in verdict.problems]


def head(entries: list[ChainEntry]) -> ChainHead:
    return ChainHead(entries[-1].sequence, entries[-1].entry_hash)


def test_a_sealed_chain_verifies() -> None:
    entries = chain(5)
    verdict = verify_chain(entries, RING, head=head(entries))
    assert verdict.ok
    assert verdict.entries_checked == 5
    assert entries[0].previous_hash == GENESIS
    assert all(b.previous_hash == a.entry_hash for a, b in itertools.pairwise(entries))


def test_changed_content_or_columns_are_named() -> None:
    entries = chain(4)
    entries[1] = dataclasses.replace(entries[1], content={**entries[1].content, "data": {"n": 99}})  # type: ignore[dict-item]
    entries[2] = dataclasses.replace(entries[2], columns={"case_id": "c-2"})
    assert found(entries) == [(2, "changed"), (3, "changed")]


def test_a_changed_time_or_link_breaks_the_entry_hash() -> None:
    entries = chain(4)
    entries[1] = dataclasses.replace(entries[1], recorded_at=T0 - timedelta(days=3))
    entries[3] = dataclasses.replace(entries[3], previous_hash="f" * 64)
    assert found(entries) == [(2, "changed"), (4, "changed")]


def test_removed_entries_are_named_first_middle_and_last() -> None:
    entries = chain(6)
    full_head = head(entries)
    kept = [e for e in entries if e.sequence not in (1, 3, 6)]
    assert found(kept, head=full_head) == [(1, "removed"), (3, "removed"), (6, "removed")]


def test_a_swap_is_named_as_reordering_even_far_apart() -> None:
    entries = chain(6)
    swapped = [
        dataclasses.replace(e, sequence={2: 5, 5: 2}.get(e.sequence, e.sequence)) for e in entries
    ]
    verdict = verify_chain(swapped, RING, head=head(entries))
    assert [(p.sequence, p.problem, p.expected_sequence) for p in verdict.problems] == [
        (2, "reordered", 5),
        (5, "reordered", 2),
    ]


def test_signatures_must_be_good_known_and_in_time() -> None:
    entries = chain(3)
    forged = chain(1, Ed25519PrivateKey.generate())[0]
    other_key = dataclasses.replace(entries[0], signature=forged.signature)
    assert found([other_key, *entries[1:]]) == [(1, "bad_signature")]
    assert found(entries, KeyRing()) == [
        (1, "bad_signature"),
        (2, "bad_signature"),
        (3, "bad_signature"),
    ]
    retired = KeyRing([PublicKey(RAW, not_before=T0, not_after=T0 + timedelta(minutes=2))])
    assert found(entries, retired) == [(3, "bad_signature")]


def test_rehashed_content_without_the_key_is_a_bad_signature() -> None:
    entries = chain(3)
    target = entries[1]
    content = {**target.content, "data": {"n": 42}}  # type: ignore[dict-item]
    digest = content_hash(content)
    rehashed = entry_hash(
        tenant="acme",
        sequence=2,
        recorded_at=target.recorded_at,
        previous_hash=target.previous_hash,
        content_digest=digest,
    )
    entries[1] = dataclasses.replace(
        target, content=content, content_hash=digest, entry_hash=rehashed
    )
    entries[2] = dataclasses.replace(entries[2], previous_hash=rehashed)
    problems = found(entries)
    assert problems[0] == (2, "bad_signature")


def test_a_segment_with_redacted_links_verifies() -> None:
    entries = chain(6)
    segment = [
        e if e.sequence in (2, 5) else dataclasses.replace(e, content=None, columns={})
        for e in entries[1:]
    ]
    assert verify_chain(segment, RING, segment=True).ok
    assert found(segment) == [(1, "removed")]  # as a whole chain it lacks its start
    gap = [e for e in segment if e.sequence != 4]
    assert found(gap, segment=True) == [(4, "removed")]


def test_a_duplicate_sequence_is_named() -> None:
    entries = chain(3)
    assert found([*entries, entries[1]]) == [(2, "changed")]
