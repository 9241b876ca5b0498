"""The benchmark harness end to end at its tiny size: every workload runs and reports.

Figures are not judged here (this machine is shared and the sizes are tiny); what is checked
is that each workload measured something real and wrote the fields BENCHMARKS.md describes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from naervaer.gc_tuning import SERVING_THRESHOLDS

pytestmark = pytest.mark.integration

NAERVAER = Path(sys.executable).parent / "naervaer"
REPO_ROOT = Path(__file__).resolve().parents[2]
ROW_FIELDS = {
    "w1": {
        "system",
        "writers",
        "events",
        "events_per_s",
        "p50_ms",
        "p99_ms",
        "conflicts",
        "cpu_client_us",
        "cpu_other_us",
    },
    "w2": {
        "system",
        "per_append",
        "appends",
        "events_per_s",
        "p50_ms",
        "p99_ms",
        "cpu_client_us",
        "cpu_other_us",
    },
    "w3": {
        "replicas",
        "transport",
        "clients",
        "cases",
        "commands",
        "commands_per_s",
        "p50_ms",
        "p99_ms",
        "non_200",
    },
    "w4": {"rate", "appended_per_s", "events", "p50_ms", "p95_ms", "p99_ms", "missing", "clock"},
    "w5": {"log_order", "events", "applied", "rebuild_s", "minutes", "events_per_s"},
    "w6": {
        "cases",
        "events",
        "wall_min",
        "missing",
        "case_peak_rss_mib",
        "deadline_peak_rss_mib",
        "cpu_case_us",
        "cpu_deadline_us",
        "cpu_harness_us",
        "cpu_other_us",
        "cpu_total_us",
        "cores_busy",
    },
}
MACHINE_FIELDS = {"cpu_model", "cores", "memory_gib", "python", "load_average"}


def _bench(out: Path, postgres_url: str, kafka_bootstrap: str, *options: str) -> dict[str, Any]:
    """A tiny run of ``naervaer bench`` on the session's servers; the results it wrote."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
    done = subprocess.run(
        [
            str(NAERVAER),
            "bench",
            "--scale",
            "tiny",
            "--database-url",
            postgres_url,
            "--kafka",
            kafka_bootstrap,
            "--out",
            str(out),
            *options,
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    (path,) = out.glob("*.json")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def report(
    postgres_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One tiny run of every workload through ``naervaer bench``, on the session's servers;
    W3 also with two case service replicas (Kafka mode)."""
    out = tmp_path_factory.mktemp("bench-results")
    return _bench(out, postgres_url, kafka_bootstrap, "--replicas", "1,2")


def test_the_harness_collects_as_a_service_process_does(report: dict[str, Any]) -> None:
    """W1's and W2's clients run in the harness: its start-up frozen, the serving threshold."""
    assert report["harness"]["gc_thresholds"] == list(SERVING_THRESHOLDS)
    assert report["harness"]["gc_frozen_objects"] > 0


def test_the_results_file_tells_how_fast_the_cores_ran(report: dict[str, Any]) -> None:
    """A fixed piece of work timed at the start and the end (bench/calibration.py)."""
    speed = report["machine"]["core_speed"]
    for moment in ("start", "end"):
        assert speed[moment]["rounds"] > 0
        assert speed[moment]["rounds_per_s"] > 0
    assert report["machine"]["stolen_share"] >= 0  # Linux tells its steal


def test_the_results_file_names_the_machine_and_postgres(report: dict[str, Any]) -> None:
    assert report["machine"].keys() >= MACHINE_FIELDS
    assert report["machine"]["cores"] >= 1
    assert report["postgres"]["version"]
    assert report["postgres"]["started_by_harness"] is False
    assert report["scale"] == "tiny"


@pytest.mark.parametrize("key", sorted(ROW_FIELDS))
def test_every_workload_reports_its_rows_and_targets(report: dict[str, Any], key: str) -> None:
    workload = report["workloads"][key]
    assert workload["rows"], f"{key} measured nothing"
    for row in workload["rows"]:
        assert ROW_FIELDS[key] <= row.keys(), f"{key} lacks {ROW_FIELDS[key] - row.keys()}"
    assert workload["checks"], f"{key} checks none of the issue's targets"
    assert all(check["target"] and check["measured"] for check in workload["checks"])


def test_the_append_workloads_compare_all_three_systems(report: dict[str, Any]) -> None:
    for key, size in (("w1", "writers"), ("w2", "per_append")):
        rows = report["workloads"][key]["rows"]
        systems = {(row[size], row["system"]) for row in rows if row["events_per_s"] > 0}
        assert all(row["cpu_client_us"] > 0 for row in rows), f"{key}: a client cost no CPU"
        sizes = {row[size] for row in rows}
        assert systems == {(s, n) for s in sizes for n in ("naervaer", "asyncpg", "eventsourcing")}


def test_every_command_and_event_went_all_the_way(report: dict[str, Any]) -> None:
    http = report["workloads"]["w3"]["rows"]
    setups = [(row["replicas"], row["transport"]) for row in http]
    assert setups == [(1, "embedded"), (1, "kafka"), (2, "kafka")]
    for row in http:
        assert row["commands"] > 0
        assert row["non_200"] == 0
        # None when the server's statistics (up to a second late) had not come in yet
        assert row["db_commits_per_command"] is None or row["db_commits_per_command"] > 0
        assert row["cpu_service_ms"] > 0  # every replica's CPU, summed
    assert all(row["missing"] == 0 for row in report["workloads"]["w4"]["rows"])
    (rebuild,) = report["workloads"]["w5"]["rows"]
    assert 0 < rebuild["applied"] <= rebuild["events"]
    assert rebuild["log_order"] == report["workloads"]["w5"]["params"]["log_order"] == "calendar"
    (year,) = report["workloads"]["w6"]["rows"]
    assert year["cases"] > 0
    assert year["missing"] == 0  # its personal values sealed, opened by the consumers
    assert year["case_peak_rss_mib"] > 0
    assert year["deadline_peak_rss_mib"] > 0
    # the CPU an event by process adds up to the machine's (each rounded to a µs); the broker
    # is the session's here, not the harness's, so it counts in ``other``
    assert "cpu_broker_us" not in year
    parts = [year[f"cpu_{part}_us"] for part in ("case", "deadline", "harness", "other")]
    assert min(parts) >= 0
    assert year["cpu_case_us"] > 0
    assert year["cpu_deadline_us"] > 0
    assert year["cpu_total_us"] == pytest.approx(sum(parts), abs=0.5 * (len(parts) + 1))


async def test_latency_is_measured_between_commits_where_the_server_stamps_them(
    report: dict[str, Any], postgres_url: str
) -> None:
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", "", 1))
    try:
        stamps = await connection.fetchval("SHOW track_commit_timestamp")
    finally:
        await connection.close()
    clock = "server" if stamps == "on" else "harness"
    rows = report["workloads"]["w4"]["rows"]
    assert {row["clock"] for row in rows} == {clock}
    assert all(row["p50_ms"] <= row["p99_ms"] for row in rows)


def test_w4_searches_for_the_highest_sustained_rate_and_reports_it(
    report: dict[str, Any],
) -> None:
    w4 = report["workloads"]["w4"]
    fixed = len(w4["params"]["rates"])
    search = w4["rows"][fixed:]
    assert 1 <= len(search) <= w4["params"]["search_tries"]
    for row in search:
        assert row["note"] == ("search: sustained" if row["sustained"] else "search: not sustained")
    if not search[0]["sustained"]:  # then each later try lies between a rate held and one not
        for i, row in enumerate(search[1:], 1):
            before = search[:i]
            held = [r["rate"] for r in before if r["sustained"]]
            assert row["rate"] < min(r["rate"] for r in before if not r["sustained"])
            assert row["rate"] > max(held, default=0)
    sustained = [row["rate"] for row in w4["rows"] if row["sustained"]]
    assert w4["params"]["highest_sustained_per_s"] == max(sustained, default=None)


def test_w4_tells_how_many_events_each_stage_took_a_round(report: dict[str, Any]) -> None:
    w4 = report["workloads"]["w4"]
    stages = ("relay_per_round", "summaries_per_round", "timeline_per_round")
    burst = {**w4["params"]["burst_cpu"], "events": w4["params"]["burst_cpu"]["operations"]}
    for measured in [*w4["rows"], burst]:
        # every event went through each stage, in rounds of one event or more
        assert all(1 <= (measured[stage] or 0) <= measured["events"] for stage in stages), measured


def test_w4_tells_what_the_pipeline_spends_idle(report: dict[str, Any]) -> None:
    idle = report["workloads"]["w4"]["params"]["idle_cpu_ms_per_s"]
    assert {"case_ms", "deadline_ms", "harness_ms", "other_ms", "total_ms"} <= idle.keys()
    parts = [value for key, value in idle.items() if key != "total_ms"]
    assert all(value >= 0 for value in parts)
    # each part and the total rounded to 0.05 at most
    assert idle["total_ms"] == pytest.approx(sum(parts), abs=0.05 * (len(parts) + 1))
    assert 0 < idle["total_ms"] <= 1000 * (os.cpu_count() or 1)  # a broker is polled, at least


def test_by_default_the_services_export_no_spans(report: dict[str, Any]) -> None:
    assert report["traces"] == {"exported": False, "export_requests": 0}


def test_by_default_the_services_get_no_settings_of_the_callers(report: dict[str, Any]) -> None:
    assert report["service_settings"] == {}


def test_with_traces_the_services_export_their_spans(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    traced = _bench(tmp_path, postgres_url, kafka_bootstrap, "--traces", "-w", "3")
    assert traced["traces"]["exported"] is True
    assert traced["traces"]["export_requests"] > 0
    (http,) = traced["workloads"]["w3"]["rows"]
    assert http["commands"] > 0
    assert http["non_200"] == 0


def test_w5_replays_whole_cases_when_asked(
    postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    imported = _bench(tmp_path, postgres_url, kafka_bootstrap, "-w", "5", "--log-order", "cases")
    (rebuild,) = imported["workloads"]["w5"]["rows"]
    assert rebuild["log_order"] == imported["workloads"]["w5"]["params"]["log_order"] == "cases"
    assert 0 < rebuild["applied"] <= rebuild["events"]
