"""How a rebuild shares a log's tenants out among processes (pure: no I/O)."""

from __future__ import annotations

import pytest

from naervaer.messaging.rebuild import Share, share_out


def test_the_largest_tenants_go_first_each_to_the_share_with_the_fewest_events() -> None:
    # a Zipf-like log: one tenant holds a third of the events
    counts = {"t1": 60, "t2": 30, "t3": 20, "t4": 15, "t5": 12, "t6": 10, "t7": 8, "t8": 7}

    shares = share_out(counts, 2, up_to=400)

    # 60 | 30 20 | 15 to the second (50) | 12 to the first (60) | 10 | 8 | 7
    assert [sorted(share.tenants) for share in shares] == [
        ["t1", "t5", "t7"],
        ["t2", "t3", "t4", "t6", "t8"],
    ]
    assert [sum(counts[t] for t in share.tenants) for share in shares] == [80, 82]
    assert all((share.up_to, share.shares) == (400, 2) for share in shares)


def test_every_tenant_is_in_exactly_one_share() -> None:
    counts = {f"tenant-{i}": (i * 37) % 101 + 1 for i in range(500)}

    shares = share_out(counts, 3, up_to=10_000)

    assert len(shares) == 3
    assert sum(len(share.tenants) for share in shares) == 500
    assert frozenset().union(*(share.tenants for share in shares)) == counts.keys()
    events = [sum(counts[t] for t in share.tenants) for share in shares]
    assert max(events) - min(events) <= max(counts.values())


def test_fewer_tenants_than_processes_make_fewer_shares() -> None:
    assert share_out({"a": 5, "b": 1}, 4, up_to=6) == [
        Share({"a": 5}, 6, shares=2),
        Share({"b": 1}, 6, shares=2),
    ]
    assert share_out({}, 4, up_to=0) == []


def test_a_tenant_bigger_than_the_rest_gets_a_share_alone() -> None:
    shares = share_out({"big": 100, "x": 10, "y": 10, "z": 10}, 2, up_to=130)

    assert [set(share.tenants) for share in shares] == [{"big"}, {"x", "y", "z"}]


def test_at_least_one_process() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        share_out({"a": 1}, 0, up_to=1)


def test_a_shares_tenants_are_placed_in_its_partitions_balanced_by_events() -> None:
    """Not by a hash: ``crc32`` puts "a", "b" and "c" all in partition 1 of 2."""
    share = Share({"a": 10, "b": 8, "c": 3}, 30)

    assert share.placed(2) == {"a": 0, "b": 1, "c": 1}
    assert share.placed(1) == {"a": 0, "b": 0, "c": 0}
    alike = Share(dict.fromkeys("abcd", 1), 4).placed(2)  # one event each: two and two
    assert sorted(list(alike.values()).count(part) for part in (0, 1)) == [2, 2]
