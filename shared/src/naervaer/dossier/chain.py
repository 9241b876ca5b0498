"""The hash chain of the audit trail (revisjonsspor): sealing entries and finding tampering.

Each entry of a tenant's chain holds the hash of its predecessor. Its *entry hash* binds the
tenant, its sequence number, when it was recorded, its predecessor and the hash of its content;
the service signs the entry hash with Ed25519 (one signature per entry, so any entry verifies on
its own and a key rotation needs no re-signing). Verification names each row that was changed,
removed, reordered or carries a bad signature. Pure functions: the service writes with the same
code the offline verifier checks with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from naervaer.dossier.canonical import canonical_bytes, sha256_hex
from naervaer.dossier.keys import KeyRing

GENESIS = "0" * 64
ENTRY_CONTEXT = b"naervaer.audit-entry.v1\n"  # keeps entry signatures apart from manifest ones

ProblemKind = Literal["changed", "removed", "reordered", "bad_signature"]


def content_hash(content: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of an entry's content."""
    return sha256_hex(canonical_bytes(content))


def timestamp(moment: datetime) -> str:
    """The one text form of a time inside hashes: UTC, microseconds."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def entry_hash(
    *, tenant: str, sequence: int, recorded_at: datetime, previous_hash: str, content_digest: str
) -> str:
    """The hash that binds an entry to its place (and time) in its tenant's chain."""
    material = f"{tenant}\n{sequence}\n{timestamp(recorded_at)}\n{previous_hash}\n{content_digest}"
    return sha256_hex(material.encode("utf-8"))


def entry_message(hash_hex: str) -> bytes:
    """The bytes the service signs for an entry."""
    return ENTRY_CONTEXT + hash_hex.encode("ascii")


@dataclass(frozen=True)
class Seal:
    """The chain fields of a new entry, ready to be stored beside its content."""

    content_hash: str
    previous_hash: str
    entry_hash: str
    key_id: str
    signature: str


def seal(
    *,
    tenant: str,
    sequence: int,
    recorded_at: datetime,
    previous_hash: str,
    content: Mapping[str, Any],
    key_id: str,
    sign: Callable[[bytes], str],
) -> Seal:
    """Hash ``content`` into the chain after ``previous_hash`` and sign it."""
    digest = content_hash(content)
    hashed = entry_hash(
        tenant=tenant,
        sequence=sequence,
        recorded_at=recorded_at,
        previous_hash=previous_hash,
        content_digest=digest,
    )
    return Seal(digest, previous_hash, hashed, key_id, sign(entry_message(hashed)))


@dataclass(frozen=True)
class ChainEntry:
    """An entry as read back; ``content`` None means redacted (a link entry in a dossier)."""

    tenant: str
    sequence: int
    recorded_at: datetime
    previous_hash: str
    content_hash: str
    entry_hash: str
    key_id: str
    signature: str
    content: Mapping[str, Any] | None = None
    # Values stored beside the content (kind, source_id, case_id): they must agree with it.
    columns: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChainHead:
    """Where the service last left the chain: a removed tail is found against it."""

    sequence: int
    entry_hash: str


@dataclass(frozen=True)
class ChainProblem:
    sequence: int
    problem: ProblemKind
    detail: str
    expected_sequence: int | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "sequence": self.sequence,
            "problem": self.problem,
            "detail": self.detail,
        }
        if self.expected_sequence is not None:
            found["expected_sequence"] = self.expected_sequence
        return found


@dataclass(frozen=True)
class ChainVerdict:
    entries_checked: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    entries: Iterable[ChainEntry],
    keys: KeyRing,
    *,
    head: ChainHead | None = None,
    segment: bool = False,
) -> ChainVerdict:
    """Check a tenant's chain (or, with ``segment``, a contiguous part of it) entry by entry."""
    ordered = sorted(entries, key=lambda e: e.sequence)
    positions = _positions(ordered)
    problems: list[ChainProblem] = []
    expected = ordered[0].sequence if segment and ordered else 1
    previous: ChainEntry | None = None
    previous_sound = False
    for entry in ordered:
        if previous is not None and entry.sequence == previous.sequence:
            problems.append(_changed(entry, "a second entry with this sequence"))
            continue
        problems.extend(_removed(expected, entry.sequence))
        predecessor = previous if entry.sequence == expected and previous_sound else None
        problem = _entry_problem(entry, keys, positions) or _link_problem(entry, predecessor)
        if problem is not None:
            problems.append(problem)
        previous, previous_sound, expected = entry, problem is None, entry.sequence + 1
    problems.extend(_head_problems(head, previous, previous_sound, expected))
    return ChainVerdict(len(ordered), tuple(problems))


def _entry_problem(
    entry: ChainEntry, keys: KeyRing, positions: Mapping[str, int | None]
) -> ChainProblem | None:
    if entry.content is not None:
        if content_hash(entry.content) != entry.content_hash:
            return _changed(entry, "its content no longer matches its hash")
        differing = sorted(k for k, v in entry.columns.items() if entry.content.get(k) != v)
        if differing:
            return _changed(entry, f"{', '.join(differing)} differ from the sealed content")
    if _hash_at(entry, entry.sequence) != entry.entry_hash:
        original = positions.get(entry.entry_hash)
        if original is not None and _hash_at(entry, original) == entry.entry_hash:
            detail = f"sealed as entry {original}, found at {entry.sequence}"
            return ChainProblem(entry.sequence, "reordered", detail, expected_sequence=original)
        return _changed(entry, "its fields no longer match its entry hash")
    message = ENTRY_CONTEXT + entry.entry_hash.encode("ascii")
    reason = keys.problem(entry.key_id, message, entry.signature, entry.recorded_at)
    return None if reason is None else ChainProblem(entry.sequence, "bad_signature", reason)


def _link_problem(entry: ChainEntry, predecessor: ChainEntry | None) -> ChainProblem | None:
    if entry.sequence == 1 and entry.previous_hash != GENESIS:
        return _changed(entry, "the first entry does not start the chain")
    if predecessor is not None and entry.previous_hash != predecessor.entry_hash:
        return _changed(entry, f"does not follow entry {predecessor.sequence}")
    return None


def _head_problems(
    head: ChainHead | None, last: ChainEntry | None, last_sound: bool, expected: int
) -> list[ChainProblem]:
    if head is None:
        return []
    if head.sequence >= expected:
        return _removed(expected, head.sequence + 1)
    moved_on = last is not None and last.sequence == head.sequence
    if last is not None and moved_on and last_sound and last.entry_hash != head.entry_hash:
        return [_changed(last, "differs from the recorded head of the chain")]
    return []


def _removed(first: int, stop: int) -> list[ChainProblem]:
    return [
        ChainProblem(sequence, "removed", "missing from the chain")
        for sequence in range(first, stop)
    ]


def _changed(entry: ChainEntry, detail: str) -> ChainProblem:
    return ChainProblem(entry.sequence, "changed", detail)


def _hash_at(entry: ChainEntry, sequence: int) -> str:
    return entry_hash(
        tenant=entry.tenant,
        sequence=sequence,
        recorded_at=entry.recorded_at,
        previous_hash=entry.previous_hash,
        content_digest=entry.content_hash,
    )


def _positions(entries: Sequence[ChainEntry]) -> dict[str, int | None]:
    """Where each entry was sealed, found by following ``previous_hash`` back to an anchor.

    An anchor is an entry whose hash holds at its current sequence (or the genesis). A moved
    entry's hash only holds at its original place: this finds that place, so a swap is named
    as a reordering rather than as two changes.
    """
    by_hash = {entry.entry_hash: entry for entry in entries}
    known: dict[str, int | None] = {}
    for entry in entries:
        trail: list[ChainEntry] = []
        base = _walk_back(entry, by_hash, known, trail)
        for link in reversed(trail):
            base = None if base is None else base + 1
            known[link.entry_hash] = base
    return known


def _walk_back(
    entry: ChainEntry,
    by_hash: Mapping[str, ChainEntry],
    known: dict[str, int | None],
    trail: list[ChainEntry],
) -> int | None:
    """Collect unresolved entries into ``trail``; return the position before the oldest."""
    cursor: ChainEntry | None = entry
    seen: set[str] = set()
    while cursor is not None and cursor.entry_hash not in seen:
        if cursor.entry_hash in known:
            return known[cursor.entry_hash]
        if _hash_at(cursor, cursor.sequence) == cursor.entry_hash:
            known[cursor.entry_hash] = cursor.sequence
            return cursor.sequence
        seen.add(cursor.entry_hash)
        trail.append(cursor)
        if cursor.previous_hash == GENESIS:
            return 0
        cursor = by_hash.get(cursor.previous_hash)
    return None  # the chain back is broken (or loops): the place cannot be found
