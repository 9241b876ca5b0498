"""The harness's command line hands the services settings: which, and where they arrive.

No servers: the options are parsed and the services' environment built, nothing started.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.__main__ import parse
from bench.config import SCALES
from bench.context import BenchContext


def test_a_service_setting_reaches_the_services_of_a_workload(tmp_path: Path) -> None:
    options = parse(
        [
            "--service-setting",
            "NAERVAER_KAFKA_FETCH_MIN_BYTES=16384",
            "--service-setting",
            "NAERVAER_KAFKA_FETCH_MAX_WAIT_MS=50",
        ]
    )
    ctx = BenchContext(
        SCALES["tiny"],
        Console(),
        "postgresql+asyncpg://bench@127.0.0.1/postgres",
        fsync=True,
        work_dir=tmp_path,
        service_settings=options.service_settings,
    )

    database_url = "postgresql+asyncpg://bench@127.0.0.1/w4"
    env = ctx.deployment(database_url, "w4", kafka=None, topic_prefix="t.").environment()

    assert env["NAERVAER_KAFKA_FETCH_MIN_BYTES"] == "16384"
    assert env["NAERVAER_KAFKA_FETCH_MAX_WAIT_MS"] == "50"  # over the harness's own 20
    assert env["NAERVAER_DATABASE_URL"] == database_url  # what the harness set, kept


@pytest.mark.parametrize(
    "given",
    [
        "KAFKA_FETCH_MIN_BYTES=1",  # not a Nærvær setting
        "NAERVAER_KAFKA_FETCH_MIN_BYTES",  # no value
        "NAERVAER_KAFKA_FETCH_MIN_BYTE=1",  # a typo: no service reads it
        "NAERVAER_kafka_fetch_min_bytes=1",  # nor this spelling
    ],
)
def test_a_service_setting_must_be_one_the_services_read(
    given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        parse(["--service-setting", given])
    assert refused.value.code == 2
    assert "expected NAERVAER_NAME=VALUE" in capsys.readouterr().err


@pytest.mark.parametrize(
    "name",
    [
        "NAERVAER_DATABASE_URL",
        "NAERVAER_KAFKA_BOOTSTRAP",
        "NAERVAER_TOPIC_PREFIX",
        "NAERVAER_MASTER_KEY_FILE",
        "NAERVAER_CASE_PORT",
        "NAERVAER_DEADLINE_DATABASE_URL",
    ],
)
def test_what_ties_the_services_to_the_harness_cannot_be_moved(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        parse(["--service-setting", f"{name}=elsewhere"])
    assert refused.value.code == 2
    assert f"the harness sets {name} itself" in capsys.readouterr().err
