"""A stream is its tenant's: an append naming another tenant writes nothing and raises
``StreamOfAnotherTenant``, whatever version it expects, alone or in a group, with or without
a command id — and the stream's own tenant appends on as before."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from naervaer.eventstore import EventStore, NewEvent, StreamOfAnotherTenant


def event(n: int = 0) -> NewEvent:
    return NewEvent("case.noted", {"n": n})


@pytest.mark.parametrize(
    ("expected", "command_id"), [(None, None), (0, None), (1, None), (None, "cmd-other")]
)
async def test_another_tenants_append_to_a_stream_writes_nothing(
    make_store: Callable[..., EventStore], expected: int | None, command_id: str | None
) -> None:
    store = make_store(outbox_topic="case-events")
    await store.append("case-1", [event()], tenant="acme", expected_version=0)

    with pytest.raises(StreamOfAnotherTenant) as refused:
        await store.append(
            "case-1",
            [event(1), event(2)],
            tenant="globex",
            expected_version=expected,
            command_id=command_id,
        )

    assert (refused.value.stream_id, refused.value.tenant) == ("case-1", "globex")
    assert [e.tenant for e in await store.read_all(0, 100)] == ["acme"]
    assert await store.stream_version("case-1") == 1
    if command_id is not None:  # not recorded: the command may yet run where it belongs
        assert await store.command_result(command_id) is None
    written = await store.append("case-1", [event(3)], tenant="acme", expected_version=1)
    assert written.version == 2
    assert [e.globalposition for e in await store.read_all(0, 100)] == [1, 2]


@pytest.mark.parametrize("target", ["postgresql"], indirect=True)
async def test_in_a_group_only_the_foreign_append_is_refused(store: EventStore) -> None:
    await store.append("case-1", [event()], tenant="acme", expected_version=0)
    answers = await asyncio.gather(
        store.append("case-1", [event(1)], tenant="acme", expected_version=None),
        store.append("case-1", [event(2)], tenant="globex", expected_version=None),
        store.append("case-2", [event(3)], tenant="globex", expected_version=0),
        store.append("case-1", [event(4)], tenant="globex", expected_version=2),
        return_exceptions=True,
    )
    assert store._group is not None
    assert store._group.appends_grouped > 0  # a group formed
    assert [type(a).__name__ for a in answers] == [
        "AppendResult",
        "StreamOfAnotherTenant",
        "AppendResult",
        "StreamOfAnotherTenant",
    ]
    assert [(e.streamid, e.tenant) for e in await store.read_all(0, 100)] == [
        ("case-1", "acme"),
        ("case-1", "acme"),
        ("case-2", "globex"),
    ]
