"""A case event counts for its own tenant's case only. Case ids come from the case service
and never repeat across tenants; should another tenant's event name a case stored here (a
malformed or hostile producer), it is ignored, one at a time and in a batch, whether the case
waits in the batch or not: it neither changes the case's timeline nor takes the case over."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import TimelineProjection
from deadline_service.config import Policies
from naervaer.contracts.case import ManagerReassigned
from naervaer.envelope import Envelope
from naervaer.privacy.keyvault import KeyVault

from ..builders import CaseScript, d
from ..conftest import CaseLog, project_together, snapshot

TABLES = ("cases", "case_events", "obligations", "timers")


def acme_case() -> tuple[CaseScript, CaseScript]:
    """The case's first events, and the rest (after which the other tenant's come)."""
    first = CaseScript("2025-03-03", case_id="case-7")
    first.note("2025-03-03", "2025-03-20")
    rest = CaseScript("2025-03-03", case_id="case-7")
    rest.events.clear()
    rest.note("2025-03-21", "2025-06-30", note_id="note-2")
    return first, rest


def foreign_events() -> list[Any]:
    """Another tenant's events naming case-7: an opening, a note, a reassignment."""
    other = CaseScript("2025-01-06", case_id="case-7", employee_id="emp-x", manager_id="mgr-x")
    other.note("2025-01-06", "2025-12-31", note_id="note-x")
    reassigned = ManagerReassigned(
        case_id="case-7", previous_manager_id="mgr-1", manager_id="mgr-x",
        effective_on=d("2025-03-10"),
    )  # fmt: skip
    return [*other.payloads(), reassigned]


def forged(envelope: Envelope, case_id: str) -> Envelope:
    if envelope.streamid != f"{case_id}-forged":
        return envelope
    return envelope.model_copy(update={"subject": case_id, "streamid": case_id})


async def project(
    engine: AsyncEngine, envelopes: list[Envelope], vault: KeyVault, *, batched: bool
) -> None:
    projection = TimelineProjection(Policies(), vault)
    await project_together(engine, projection, envelopes, vault, batched=batched)


async def reset(engine: AsyncEngine, vault: KeyVault) -> None:
    async with engine.begin() as tx:
        await TimelineProjection(Policies(), vault).reset(tx)


@pytest.mark.parametrize(
    ("batched", "known"),
    [(False, True), (True, True), (True, False)],
    ids=["one by one", "in a batch, case stored", "in a batch, case waiting"],
)
async def test_another_tenants_events_on_a_case_are_ignored(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault, batched: bool, known: bool
) -> None:
    """``known``: the case is stored before the other tenant's events come (else it waits in
    the same batch, opened just before them: only a batch keeps a case waiting)."""
    first, rest = acme_case()
    await case_log.append(first.case_id, first.payloads())
    # The store refuses another tenant's append to case-7's stream: the other tenant's
    # events go to a stream of their own and are then made to name case-7, as a malformed
    # or hostile producer's would.
    await case_log.append("case-7-forged", foreign_events(), tenant="other")
    await case_log.append(first.case_id, rest.payloads())
    log = [forged(e, first.case_id) for e in await case_log.envelopes()]
    assert {e.tenant for e in log} == {"acme", "other"}
    split = len(first.payloads()) if known else 0

    await project(deadline_engine, [e for e in log if e.tenant == "acme"], vault, batched=True)
    alone = await snapshot(deadline_engine, *TABLES)
    await reset(deadline_engine, vault)
    await project(deadline_engine, log[:split], vault, batched=batched)
    await project(deadline_engine, log[split:], vault, batched=batched)

    assert await snapshot(deadline_engine, *TABLES) == alone
    assert alone["cases"], "acme's case must be projected"
