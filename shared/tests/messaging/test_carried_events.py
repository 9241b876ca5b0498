"""What a carrying projection reports to the rebuild (``CarriedEvents``): the events whose
effects wait for a later batch, those written since the rebuild last asked, and where
consumption may resume."""

from __future__ import annotations

from uuid import uuid4

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
