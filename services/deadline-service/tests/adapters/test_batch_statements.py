"""What a live batch costs in statements (issue 8, W4 and W6): the families of its cases are
read once for the whole batch, not once per event, so the batch's statements do not grow with
the number of cases in it (equal rows to per-event handling: ``test_batch_on_live_state``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.projection import RELEVANT_TYPES, TimelineProjection
from deadline_service.config import Policies
from naervaer.envelope import Envelope
from naervaer.privacy import KEYRING
from naervaer.testing.statements import statements_sent

from ..builders import CaseScript
from ..conftest import CaseLog, NoKeys, project


async def _batch_statements(engine: AsyncEngine, case_log: CaseLog, cases: int) -> list[str]:
    """Statements of one batch extending the sick note of ``cases`` stored cases, each the
    only case of its employee."""
    scripts = [
        CaseScript("2024-01-08", case_id=f"c{cases}-{i}", employee_id=f"emp{cases}-{i}")
        for i in range(cases)
    ]
    for script in scripts:
        script.note("2024-01-08", "2024-02-29", note_id="n1")
        await case_log.append(script.case_id, [e.payload for e in script.events])
    await project(engine, await _relevant(case_log))
    already = len(await _relevant(case_log))
    for script in scripts:
        script.extend("n1", "2024-03-31")
        await case_log.append(script.case_id, [script.events[-1].payload])
    batch = (await _relevant(case_log))[already:]
    assert len(batch) == cases
    projection = TimelineProjection(Policies(), NoKeys())
    await KEYRING.load(batch, NoKeys())
    with statements_sent(engine) as sent:
        async with engine.begin() as tx:
            await projection.handle_batch(tx, batch)
    return [s for s in sent if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]


async def _relevant(case_log: CaseLog) -> list[Envelope]:
    return [e for e in await case_log.envelopes() if e.type in RELEVANT_TYPES]


async def test_a_batch_reads_its_cases_families_once_however_many_cases(
    deadline_engine: AsyncEngine, case_log: CaseLog
) -> None:
    few = await _batch_statements(deadline_engine, case_log, 2)
    many = await _batch_statements(deadline_engine, case_log, 12)
    # the cases' events, their families, and the writes: no read per event
    assert len(many) == len(few), many
    assert len(few) <= 8, few
