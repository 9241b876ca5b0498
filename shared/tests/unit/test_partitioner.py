"""The relay's partitioner gives every record the partition Kafka's default partitioner
gives it (murmur2 of the key, as the Java client), with each key's hash kept."""

from __future__ import annotations

import random
import uuid

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from naervaer.outbox.kafka import by_key

partitions = st.integers(1, 48).flatmap(
    lambda n: st.lists(st.integers(0, 200), min_size=n, max_size=n, unique=True).map(sorted)
)


@given(key=st.binary(max_size=80), all_partitions=partitions)
def test_a_key_goes_where_kafkas_default_partitioner_sends_it(
    key: bytes, all_partitions: list[int]
) -> None:
    expected = DefaultPartitioner()(key, all_partitions, all_partitions)
    assert by_key(key, all_partitions, all_partitions) == expected
    assert by_key(key, all_partitions, []) == expected  # again, from the kept hash


def test_case_ids_spread_and_keep_their_partition_as_the_topic_grows() -> None:
    keys = [str(uuid.UUID(int=random.getrandbits(128))).encode() for _ in range(2_000)]
    for count in (1, 3, 6, 12):
        all_partitions = list(range(count))
        placed = [by_key(key, all_partitions, all_partitions) for key in keys]
        assert placed == [DefaultPartitioner()(k, all_partitions, all_partitions) for k in keys]
        assert set(placed) == set(all_partitions)


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert {by_key(None, [0, 1, 2, 3], [2]) for _ in range(20)} == {2}
    assert {by_key(None, [5, 7], []) for _ in range(50)} <= {5, 7}


def test_a_key_of_another_buffer_type_goes_where_its_bytes_would() -> None:
    key = b"0b4c3a2e-case"
    assert by_key(bytearray(key), [0, 1, 2], [0, 1, 2]) == by_key(key, [0, 1, 2], [0, 1, 2])
