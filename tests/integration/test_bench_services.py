"""The harness's services run as production runs them: no dev routes, keys named as a
deployment names them, and the load generator's tokens accepted through the public key."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.services import Deployment, migrate, start_services, stop_services
from naervaer.auth.devkeys import mint_token

pytestmark = pytest.mark.integration


async def test_a_benchmarked_service_runs_in_production_mode(
    fresh_database: str, tmp_path: Path
) -> None:
    deployment = Deployment(database_url=fresh_database, data_dir=tmp_path / "data")
    await migrate(deployment, ["deadline"])
    services = await start_services(deployment, ["deadline"])
    try:
        (deadline,) = services
        token = mint_token(deployment.data_dir, tenant="bench", roles=["hr"], sub="hr-bench")
        async with httpx.AsyncClient(
            base_url=deadline.base_url, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            dev_clock = await client.get("/v1/dev/clock")
            unknown_case = await client.get("/v1/cases/no-such-case/timeline")
    finally:
        stop_services(services)

    assert dev_clock.status_code == 404  # the dev clock control exists only in development
    assert unknown_case.status_code == 404, unknown_case.text  # the token was accepted
    assert unknown_case.json()["status"] == 404
