"""W6's year, and W5's log, stored as the case service stores a command's events: every event
with a personal value (a case opened, a follow-up conversation, plan or meeting) sealed with
its employee's key from the services' vault, every other event as it was generated (it has no
personal value, so no key is asked for)."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the harness is not a package

from bench.appender import CaseLog
from bench.services import Deployment, migrate
from bench.w5_rebuild import fill
from bench.year import days, first_day
from naervaer.contracts import CONTRACTS
from naervaer.privacy import sealed_key_ids, unseal_data
from naervaer.privacy.sealer import plan_of
from naervaer.privacy.vault_setup import open_vault

pytestmark = pytest.mark.integration


async def test_the_year_is_stored_sealed_with_each_employees_key(
    fresh_database: str, tmp_path: Path
) -> None:
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case"])
    vault = open_vault(deployment.platform())
    log = CaseLog.open(fresh_database, None, pool_size=2, vault=vault)
    steps = [step for day in itertools.islice(days(2_000, first_day()), 30) for step in day]
    tales = {step.tale.case_id: step.tale for step in steps}
    try:
        for step in steps:
            await log.append(step.tale, step.events)
        stored = {case_id: await log.store.read_stream(case_id) for case_id in tales}
        key_of = {  # the key of the employee the case opened names, as the case service finds it
            step.tale.case_id: await vault.live_key_id(step.tale.tenant, event.data["employee_id"])
            for step in steps
            for event in step.events
            if event.type == "case.opened"
        }
        keys = await vault.keys(key for key in key_of.values() if key is not None)
    finally:
        await log.close()

    generated: dict[str, list[Any]] = {case_id: [] for case_id in tales}
    for step in steps:
        generated[step.tale.case_id] += [event.data for event in step.events]
    sealed: set[str] = set()
    for case_id, envelopes in stored.items():
        assert len(envelopes) == len(generated[case_id])
        for envelope, data in zip(envelopes, generated[case_id], strict=True):
            if not plan_of(CONTRACTS.get(envelope.type).model):
                assert envelope.data == data  # stored as generated: nothing personal in it
                continue
            sealed.add(envelope.type)
            assert envelope.data != data
            assert sealed_key_ids(envelope.data) == {key_of[case_id]}
            assert unseal_data(dict(envelope.data), keys.get) == data
    # every case's opening, and the long cases' follow-up conversations
    assert {"case.opened", "case.follow_up_conversation_held"} <= sealed
    assert len(tales) > 100


class _Scale:
    writers = 2


class _Context:
    scale = _Scale()


@pytest.mark.parametrize("order", ["calendar", "cases"])
async def test_the_rebuilds_log_is_sealed_in_either_order(
    fresh_database: str, tmp_path: Path, order: str
) -> None:
    """W5's fill, a step an append (calendar) or a case an append (cases), seals as W6 does."""
    deployment = Deployment(fresh_database, tmp_path)
    await migrate(deployment, ["case"])
    stored = await fill(_Context(), deployment, 400, order)  # type: ignore[arg-type]
    log = CaseLog.open(fresh_database, None, pool_size=1)
    try:
        envelopes = await log.store.read_all(0, 10_000)
    finally:
        await log.close()
    key_of = {e.streamid: min(sealed_key_ids(e.data)) for e in envelopes if e.type == "case.opened"}
    assert len(envelopes) == stored >= 400
    assert len(key_of) > 10
    for envelope in envelopes:
        personal = plan_of(CONTRACTS.get(envelope.type).model)
        assert sealed_key_ids(envelope.data) == ({key_of[envelope.streamid]} if personal else set())
