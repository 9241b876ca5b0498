"""What a carrying projection reports to the rebuild (``CarriedEvents``): the events whose
effects wait for a later batch, those written since the rebuild last asked, and where
consumption may resume."""

from __future__ import annotations

import random
from uuid import UUID, uuid4

from naervaer.messaging.rebuild import CarriedEvents


def test_events_written_are_released_once_and_the_checkpoint_stays_before_the_oldest() -> None:
    carried = CarriedEvents()
    first, second, third = uuid4(), uuid4(), uuid4()
    assert carried.checkpoint(10) == 10  # nothing carried: as far as the batches reached

    carried.hold([(first, 4), (second, 7)])
    carried.hold([(third, 12)])
    assert (len(carried), carried.holds(second), carried.checkpoint(15)) == (3, True, 3)

    carried.release([first, uuid4()])  # an event never held (written in its own batch)
    assert carried.take_released() == [first]
    assert carried.take_released() == []
    assert (carried.holds(first), carried.checkpoint(15)) == (False, 6)

    carried.release([second, third])
    assert carried.take_released() == [second, third]
    assert (len(carried), carried.checkpoint(20)) == (0, 20)


def test_the_checkpoint_is_before_the_oldest_held_whatever_order_they_come_and_go() -> None:
    rng = random.Random(8)
    carried, held = CarriedEvents(), dict[UUID, int]()
    positions = rng.sample(range(1, 10_000), 2_000)  # held out of position order
    for start in range(0, len(positions), 50):
        events = [(uuid4(), p) for p in positions[start : start + 50]]
        carried.hold(events)
        held.update(events)
        gone = rng.sample(sorted(held, key=str), k=min(len(held), rng.randint(0, 60)))
        carried.release(gone)
        for event_id in gone:
            del held[event_id]
        assert carried.checkpoint(10_000) == (min(held.values()) - 1 if held else 10_000)
    assert len(carried) == len(held)


def test_one_event_held_long_keeps_no_memory_of_those_released_after_it() -> None:
    carried = CarriedEvents()
    carried.hold([(uuid4(), 1)])  # a case carried from the first batch to the end
    for batch in range(1, 200):
        events = [(uuid4(), 1_000 * batch + i) for i in range(1_000)]
        carried.hold(events)
        carried.release(event_id for event_id, _ in events)
        assert carried.checkpoint(1_000 * batch + 999) == 0
    assert len(carried) == 1
    assert len(carried._oldest) <= 2 * len(carried) + 1_024 + 1_000  # not 199 000 entries
