"""W6's year stored as the case service stores a command's events: the personal values of a
case opened sealed with its employee's key from the services' vault, every other event as it
was generated (it has no personal value, so no key is asked for)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.appender import CaseLog
from bench.services import Deployment, migrate
from bench.year import days, first_day
from naervaer.privacy import sealed_key_ids, unseal_data
from naervaer.privacy.vault_setup import open_vault

pytestmark = pytest.mark.integration


async def test_the_year_is_stored_sealed_with_each_employees_key(
    fresh_database: str, tmp_path: Path
) -> None:
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case"])
    vault = open_vault(deployment.platform())
    log = CaseLog.open(fresh_database, None, pool_size=2, vault=vault)
    steps = [step for day in itertools.islice(days(20_000, first_day()), 2) for step in day]
    tales = {step.tale.case_id: step.tale for step in steps}
    try:
        for step in steps:
            await log.append(step.tale, step.events)
        stored = {case_id: await log.store.read_stream(case_id) for case_id in tales}
        key_of = {
            case_id: await vault.live_key_id(tale.tenant, tale.employee_id)
            for case_id, tale in tales.items()
        }
        keys = await vault.keys(key for key in key_of.values() if key is not None)
    finally:
        await log.close()

    generated: dict[str, list[Any]] = {case_id: [] for case_id in tales}
    for step in steps:
        generated[step.tale.case_id] += [event.data for event in step.events]
    opened = 0
    for case_id, envelopes in stored.items():
        assert len(envelopes) == len(generated[case_id])
        for envelope, data in zip(envelopes, generated[case_id], strict=True):
            if envelope.type != "case.opened":
                assert envelope.data == data  # stored as generated: nothing personal in it
                continue
            opened += 1
            assert envelope.data["employee_id"] != data["employee_id"]
            assert envelope.data["manager_id"] != data["manager_id"]
            assert sealed_key_ids(envelope.data) == {key_of[case_id]}
            assert unseal_data(dict(envelope.data), keys.get) == data
    assert opened == len(tales) > 10
