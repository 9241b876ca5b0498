"""Each case event's payload is walked for its sealed tokens once, not once per question
(issue 8): whether its key is destroyed, which key its case remembers and what the
opened-events cache keeps all read one ``EventKeys``; the answers are those of separate
walks (``naervaer.privacy.sealing``), on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.keys import EventKeys
from deadline_service.adapters.opened import OpenedEvents
from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.config import Policies
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING, sealing
from naervaer.privacy.keyvault import KeyVault

from ..conftest import CaseLog
from .test_privacy import ERASED_EMPLOYEE, KEPT_EMPLOYEE, sick_case

A, B = "a" * 32, "0123456789abcdef" * 2
_TOKEN = re.compile(r"^pd1\.([0-9a-f]{32})\.([A-Za-z0-9_-]{38,})$")


def _token(key_id: str, tail: str = "A" * 40) -> str:
    return f"pd1.{key_id}.{tail}"


def _reference(value: Any) -> Iterator[re.Match[str]]:
    """The walk as it was before it was made one (a generator per level)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _reference(item)
    elif isinstance(value, list):
        for item in value:
            yield from _reference(item)
    elif isinstance(value, str) and (match := _TOKEN.match(value)):
        yield match


PAYLOADS: list[Any] = [
    {},
    {"plain": "text", "n": 3, "none": None, "flag": True},
    {"name": _token(A), "note": {"reason": _token(B, "x_-" * 20)}, "ids": [1, "pd1.short"]},
    {"list": [[_token(B)], {"deep": [_token(A), "pd1." + A + ".too-short"]}], "same": _token(B)},
    {"newline": _token(A) + "\n", "upper": _token(A.upper()), "prefix": " " + _token(B)},
    [_token(A), {"x": _token(B)}],
    _token(B),
]


def _reference_open(value: Any, lookup: sealing.KeyLookup, path: str) -> Any:
    """Opening as it was before it skipped plain values (a path and a match for each)."""
    if isinstance(value, dict):
        return {k: _reference_open(v, lookup, f"{path}/{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_reference_open(v, lookup, f"{path}/{i}") for i, v in enumerate(value)]
    if isinstance(value, str) and (match := _TOKEN.match(value)):
        return sealing._open_token(match, lookup, path)
    return value


KEYS = {A: os.urandom(32), B: None}  # B destroyed: its values read as erased
PLAN: dict[str, Any] = {"name": True, "notes": {"text": True}, "ids": True}
_leaves = st.none() | st.integers() | st.booleans() | st.text(max_size=8)
_leaves |= st.sampled_from(["pd1.", "pd1." + A, _token(A), _token(B) + "\n"])
_json = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)
_plain = st.dictionaries(st.text(max_size=4), _json, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    extra=_plain,
    name=st.text(max_size=6),
    texts=st.lists(st.text(max_size=6), max_size=3),
    key_id=st.sampled_from([A, B]),
)
def test_the_walks_find_and_open_what_the_reference_walks_do(
    extra: dict[str, Any], name: str, texts: list[str], key_id: str
) -> None:
    """Sealed with a live or a destroyed key, among arbitrary plain JSON (strings that look
    like tokens too): the same tokens, key ids and opened payload as the reference walks."""
    data = extra | {"name": name, "notes": [{"text": t} for t in texts], "ids": ["x", 1]}
    sealed = sealing.seal_data(data, PLAN, key_id=A, key=KEYS[A] or b"")
    if key_id == B:
        sealed["extra"] = _token(B)
    lookup = KEYS.get
    opened = _outcome(lambda: sealing.unseal_data(sealed, lookup))
    assert opened == _outcome(lambda: _reference_open(sealed, lookup, ""))
    assert list(sealing.sealed_tokens(sealed)) == [m.group(0) for m in _reference(sealed)]
    assert sealing.sealed_key_ids(sealed) == {m.group(1) for m in _reference(sealed)}
    both = [sealed, extra]
    assert sealing.sealed_key_ids_in(both) == {m.group(1) for m in _reference(both)}


def _outcome(opening: Callable[[], Any]) -> tuple[str, Any]:
    """What opening gives: the payload, or the error (a forged token fails to authenticate)."""
    try:
        return ("opened", opening())
    except ValueError as error:
        return ("failed", str(error))


def test_a_moved_token_fails_authentication_as_before() -> None:
    sealed = sealing.seal_data({"name": "Kari"}, PLAN, key_id=A, key=KEYS[A] or b"")
    moved = {"other": [sealed["name"]]}
    with pytest.raises(ValueError, match="/other/0 fails authentication"):
        sealing.unseal_data(moved, KEYS.get)


@pytest.mark.parametrize("data", PAYLOADS)
def test_one_walk_finds_what_the_separate_walks_find(data: Any) -> None:
    envelope = _envelope(data if isinstance(data, dict) else {"wrapped": data})
    keys = EventKeys.of(envelope)
    found = list(_reference(envelope.data))
    assert keys.tokens == tuple(match.group(0) for match in found)
    assert keys.ids == frozenset(match.group(1) for match in found)
    assert list(sealing.sealed_tokens(data)) == [m.group(0) for m in _reference(data)]
    assert sealing.sealed_key_ids(data) == {m.group(1) for m in _reference(data)}
    assert keys.sealing_key_id == sealing.sealing_key_id(envelope.data)


async def test_a_batch_walks_each_event_once(
    deadline_engine: AsyncEngine,
    case_log: CaseLog,
    vault: KeyVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A live batch (the cache on) of sealed events new to the projection: one walk each."""
    for case_id, employee in (("walk-1", ERASED_EMPLOYEE), ("walk-2", KEPT_EMPLOYEE)):
        payloads = sick_case(case_id, employee).payloads()
        await case_log.append_sealed(case_id, payloads, vault, employee)
    batch = [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]
    await KEYRING.load(batch, vault)
    walked: list[Any] = []
    found = sealing._found

    def counted(data: Any) -> list[str]:
        walked.append(data)
        return found(data)

    monkeypatch.setattr(sealing, "_found", counted)
    cache = OpenedEvents()
    async with deadline_engine.begin() as tx:
        await TimelineProjection(Policies(), vault, cache).handle_batch(tx, batch)

    assert len(walked) == len(batch)
    assert all(any(w is e.data for w in walked) for e in batch)
    kept = {e.id: cache.get((e.streamid, e.streamversion), e.id) for e in batch}
    tokens = {e.id: tuple(m.group(0) for m in _reference(e.data)) for e in batch}
    assert {event_id: o.keys.tokens for event_id, o in kept.items() if o is not None} == tokens
    assert any(tokens.values())  # sealed events, not only plain ones


def _envelope(data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/case-service",
        type="case.opened",
        subject="case-1",
        time=datetime.now(UTC),
        dataschema="schemas/case.opened/v1.json",
        data=data,
        streamid="case-1",
        streamversion=1,
        tenant="acme",
        schemaversion=1,
    )
