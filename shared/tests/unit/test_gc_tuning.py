"""Bulk work runs with fewer cycle collections, and the thresholds come back after it."""

from __future__ import annotations

import gc

import pytest

from naervaer.gc_tuning import BULK_THRESHOLDS, fewer_collections


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
