"""Bulk work runs with fewer cycle collections, and the thresholds come back after it; a
serving process collects less often than CPython's default."""

from __future__ import annotations

import gc

import pytest

from naervaer.gc_tuning import (
    BULK_THRESHOLDS,
    SERVING_THRESHOLDS,
    collect_less_while_serving,
    fewer_collections,
    freeze_start_up,
)


def test_the_block_runs_with_bulk_thresholds_and_restores_them() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == BULK_THRESHOLDS
    assert gc.get_threshold() == before


def test_the_thresholds_come_back_when_the_block_fails() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("the rebuild failed")
    assert gc.get_threshold() == before


def test_start_up_objects_are_frozen_out_of_the_collectors_reach() -> None:
    built_at_start_up = [[n] for n in range(10)]  # lists: tracked by the collector
    try:
        freeze_start_up()
        assert gc.get_freeze_count() >= len(built_at_start_up)
    finally:
        gc.unfreeze()  # the test process goes on collecting as before
    assert gc.get_freeze_count() == 0


def test_a_serving_process_collects_its_first_generation_less_often() -> None:
    before = gc.get_threshold()
    try:
        collect_less_while_serving()
        assert gc.get_threshold() == SERVING_THRESHOLDS
        assert SERVING_THRESHOLDS[0] > before[0]
    finally:
        gc.set_threshold(*before)
