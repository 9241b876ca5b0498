"""The harness's measure of how fast the machine's cores ran, and of the time stolen from them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench import calibration


def test_core_speed_counts_the_rounds_done_in_the_time_given() -> None:
    speed = calibration.core_speed(seconds=0.05)

    assert speed["rounds"] > 0
    assert speed["rounds"] % 200 == 0  # whole batches of rounds
    # Rounds over the wall time the loop ran (at least the time given), and over its CPU time.
    assert 0 < speed["rounds_per_s"] <= speed["rounds"] / 0.05
    assert speed["rounds_per_cpu_s"] > 0


def test_a_round_is_the_same_work_every_time() -> None:
    assert calibration._round() == calibration._round() == len(calibration._PAYLOAD)


def test_stolen_share_is_the_steal_over_the_cores_time() -> None:
    assert calibration.stolen_share(10.0, 11.0, wall_s=5.0, cores=2) == 0.1
    assert calibration.stolen_share(10.0, 10.0, wall_s=5.0, cores=2) == 0.0
    assert calibration.stolen_share(None, 11.0, wall_s=5.0, cores=2) is None
    assert calibration.stolen_share(10.0, 11.0, wall_s=0.0, cores=2) is None


def test_steal_is_read_from_the_kernel() -> None:
    stolen = calibration.steal_s()  # Linux: /proc/stat's eighth field, all cores
    assert stolen is not None
    assert stolen >= 0
