"""The harness's CPU accounting: per-operation split and the ceiling it implies."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench import cpu


def test_per_operation_splits_the_machine_by_process_and_derives_the_ceiling() -> None:
    before = cpu.CpuSample(wall_s=10.0, machine_s=100.0, processes={"service": 5.0, "gen": 1.0})
    after = cpu.CpuSample(wall_s=12.0, machine_s=103.0, processes={"service": 6.5, "gen": 1.5})

    spent = cpu.per_operation(before, after, operations=1000)

    assert spent["cpu_ms_per_op"] == {
        "service_ms": 1.5,
        "gen_ms": 0.5,
        "other_ms": 1.0,  # the machine's 3 s less the two processes' 2 s
        "total_ms": 3.0,
    }
    assert spent["cores_busy"] == 1.5
    cores = os.cpu_count() or 1
    assert spent["ceiling_per_s"] == pytest.approx(cores * 1000 / 3.0, abs=0.1)


def test_a_rows_columns_are_each_process_in_microseconds_and_the_cores_busy() -> None:
    before = cpu.CpuSample(wall_s=10.0, machine_s=100.0, processes={"case": 5.0, "harness": 1.0})
    after = cpu.CpuSample(wall_s=12.0, machine_s=103.0, processes={"case": 6.5, "harness": 1.5})

    columns = cpu.row_columns(cpu.per_operation(before, after, operations=4000))

    assert columns == {
        "cpu_case_us": 375.0,
        "cpu_harness_us": 125.0,
        "cpu_other_us": 250.0,
        "cpu_total_us": 750.0,
        "cores_busy": 1.5,
    }


def test_a_process_that_exited_meanwhile_counts_as_other() -> None:
    before = cpu.CpuSample(wall_s=0.0, machine_s=0.0, processes={"gone": 1.0})
    after = cpu.CpuSample(wall_s=1.0, machine_s=0.5, processes={})

    spent = cpu.per_operation(before, after, operations=10)

    assert spent["cpu_ms_per_op"] == {"other_ms": 50.0, "total_ms": 50.0}


def test_per_second_splits_the_machine_by_process_over_the_wall_time() -> None:
    before = cpu.CpuSample(wall_s=10.0, machine_s=100.0, processes={"service": 5.0, "gone": 1.0})
    after = cpu.CpuSample(wall_s=14.0, machine_s=101.2, processes={"service": 5.4})

    assert cpu.per_second(before, after) == {
        "service_ms": 100.0,  # 0.4 s of CPU in 4 s
        "other_ms": 200.0,  # the machine's 1.2 s less the service's 0.4 s
        "total_ms": 300.0,
    }


def test_samples_read_this_process_and_the_machine() -> None:
    first = cpu.sample({"me": os.getpid()})
    sum(i * i for i in range(200_000))  # burn a little CPU
    second = cpu.sample({"me": os.getpid(), "nobody": 2**22 + 7})

    assert second.machine_s >= first.machine_s > 0
    assert second.processes["me"] >= first.processes["me"]
    assert "nobody" not in second.processes  # no such process: left out, not zero
