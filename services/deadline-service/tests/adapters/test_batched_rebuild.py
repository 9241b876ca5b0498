"""The rebuild's batches (``TimelineProjection.handle_batch``) leave exactly the tables that
handling the same log one event at a time leaves, on SQLite and PostgreSQL, whatever the batch
size: a mixed history of several employees, interleaved across cases as the log holds them,
with a case of an employee folded while an earlier case of theirs still changes (the cascade),
reassignments, closes and reopenings, a shredded employee and an erasure amid a batch."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from deadline_service.adapters.tables import consumers
from naervaer.contracts.case import CaseOpened, ManagerReassigned
from naervaer.messaging import rebuild
from naervaer.messaging.rebuild import BatchProjection
from naervaer.privacy.keyvault import KeyVault

from ..builders import CaseScript
from ..conftest import CaseLog, project, snapshot
from .test_privacy import erasure_of

TABLES = ("cases", "case_events", "obligations", "timers", "erased_cases")
SEALED = {"emp-solo": "solo", "emp-shredded": "shredded"}  # employee → case-id prefix


def reassigned(case_id: str, before: str, after: str, day: str) -> ManagerReassigned:
    return ManagerReassigned.model_validate(
        {
            "case_id": case_id,
            "previous_manager_id": before,
            "manager_id": after,
            "effective_on": day,
        }
    )


def solo_case() -> CaseScript:
    """One case, everything happening to it: extended, graded, corrected, closed, reopened."""
    case = CaseScript("2024-01-08", case_id="solo-1", employee_id="emp-solo")
    n1 = case.note("2024-01-08", "2024-02-04", note_id="n1")
    case.extend(n1, "2024-03-31")
    case.add(reassigned(case.case_id, "mgr-1", "mgr-2", "2024-02-01"))
    case.grading(n1, "2024-03-01", 50)
    case.correct(n1, "2024-01-08", "2024-03-24", 100)
    case.returned("2024-03-25")
    case.close("2024-03-25")
    case.reopen("2024-05-06")
    n2 = case.note("2024-05-06", "2024-06-30", note_id="n2")
    case.add(reassigned(case.case_id, "mgr-2", "mgr-3", "2024-06-01"))
    case.cancel(n2)
    case.note("2024-05-06", "2024-09-30", note_id="n3")
    return case


def short_case() -> CaseScript:
    """Another employee's only case, last reassigned after its last fold."""
    case = CaseScript("2024-04-01", case_id="short-1", employee_id="emp-short")
    case.self_certified("2024-04-01", "2024-04-03")
    case.note("2024-04-04", "2024-05-31", note_id="n1")
    case.add(reassigned(case.case_id, "mgr-1", "mgr-5", "2024-04-10"))
    return case


def family_cases() -> list[CaseScript]:
    """Two cases of one employee, the later one first in the log and still changing after
    the earlier one's last event (its max date counts the earlier sick-pay days)."""
    earlier = CaseScript("2023-09-04", case_id="fam-1", employee_id="emp-family")
    n1 = earlier.note("2023-09-04", "2023-10-31", note_id="n1")
    earlier.correct(n1, "2023-09-04", "2023-12-15", 100)
    earlier.add(reassigned(earlier.case_id, "mgr-1", "mgr-9", "2023-10-01"))
    earlier.close("2023-12-16")
    later = CaseScript("2024-01-08", case_id="fam-2", employee_id="emp-family")
    n2 = later.note("2024-01-08", "2024-04-30", note_id="n2")
    later.extend(n2, "2024-06-30")
    later.grading(n2, "2024-05-01", 60)
    later.correct(n2, "2024-01-08", "2024-06-14", 60)
    later.extend(n2, "2024-08-31")
    later.add(reassigned(later.case_id, "mgr-1", "mgr-4", "2024-03-01"))
    return [later, earlier]


def pair_cases() -> list[CaseScript]:
    """Two cases of one employee, the earlier one changing after the later one's last event
    (each change of its sick-pay days recomputes the later case)."""
    later = CaseScript("2024-03-04", case_id="pair-2", employee_id="emp-pair")
    later.note("2024-03-04", "2024-12-31", note_id="n1")
    earlier = CaseScript("2023-10-02", case_id="pair-1", employee_id="emp-pair")
    n1 = earlier.note("2023-10-02", "2023-11-30", note_id="n1")
    earlier.extend(n1, "2024-01-31")
    earlier.correct(n1, "2023-10-02", "2024-02-16", 100)
    earlier.returned("2024-02-19")
    return [later, earlier]


def erased_cases() -> list[CaseScript]:
    """Unsealed (written before sealing), so still present when the erasure arrives: two
    cases of one employee, one of them erased, and another employee's only case."""
    gone = CaseScript("2024-02-05", case_id="gone-1", employee_id="emp-erased")
    note = gone.note("2024-02-05", "2024-03-31", note_id="n1")
    gone.extend(note, "2024-05-31")
    gone.returned("2024-06-01")
    kept = CaseScript("2024-09-02", case_id="gone-2", employee_id="emp-erased")
    kept.note("2024-09-02", "2024-12-31", note_id="n1")  # not named by the erasure
    lone = CaseScript("2024-01-15", case_id="lone-1", employee_id="emp-lone")
    note = lone.note("2024-01-15", "2024-06-30", note_id="n1")
    lone.extend(note, "2024-07-31")
    lone.returned("2024-08-01")
    return [gone, kept, lone]


def shredded_case() -> CaseScript:
    case = CaseScript("2024-03-04", case_id="shredded-1", employee_id="emp-shredded")
    case.note("2024-03-04", "2024-05-31", note_id="n1")
    return case


async def mixed_log(log: CaseLog, vault: KeyVault) -> None:
    """The cases' events interleaved round-robin; then an erasure, late events of the erased
    cases and a shredded employee's erasure (amid the only batch of 1000)."""
    scripts = [
        solo_case(),
        short_case(),
        *family_cases(),
        *pair_cases(),
        *erased_cases(),
        shredded_case(),
    ]
    streams = [[(s, e.payload) for e in s.events] for s in scripts]
    interleaved = [item for row in zip_longest(*streams) for item in row if item is not None]
    for script, payload in interleaved[:-4]:
        await _append(log, vault, script, payload)
    await log.append("employee-erased", [erasure_of("0" * 32, ["gone-1", "lone-1"])])
    for script, payload in interleaved[-4:]:
        await _append(log, vault, script, payload)
    shredded_key = await vault.live_key_id("acme", "emp-shredded")
    assert shredded_key is not None
    await vault.shred(shredded_key)
    await log.append("employee-shredded", [erasure_of(shredded_key, ["shredded-1"])])
    for late in erased_cases()[::2]:  # late events of the erased cases
        await log.append(late.case_id, [late.events[1].payload])


async def _append(log: CaseLog, vault: KeyVault, script: CaseScript, payload: Any) -> None:
    employee = _employee(script)
    if employee in SEALED:
        await log.append_sealed(script.case_id, [payload], vault, employee)
    else:
        await log.append(script.case_id, [payload])


def _employee(script: CaseScript) -> str:
    opened = script.events[0].payload
    assert isinstance(opened, CaseOpened)
    return opened.employee_id


async def test_batches_leave_the_tables_of_one_event_at_a_time(
    deadline_engine: AsyncEngine, case_log: CaseLog, vault: KeyVault
) -> None:
    await mixed_log(case_log, vault)
    envelopes = await case_log.envelopes()
    projection = await project(deadline_engine, envelopes, keys=vault)
    one_by_one = await snapshot(deadline_engine, *TABLES)
    _assert_realistic(one_by_one)
    assert isinstance(projection, BatchProjection)

    for batch_size in (1, 7, 1000):
        applied = await rebuild(
            projection,
            deadline_engine,
            consumers,
            case_log.store,
            batch_size=batch_size,
            keys=vault,
        )
        assert applied == len(envelopes), batch_size
        rebuilt = await snapshot(deadline_engine, *TABLES)
        for table in TABLES:
            assert rebuilt[table] == one_by_one[table], (batch_size, table)


def _assert_realistic(tables: dict[str, list[tuple[Any, ...]]]) -> None:
    """The history exercises what it claims to (so a broken log cannot pass unnoticed)."""
    case_rows = {row[0]: row for row in tables["cases"]}
    assert set(case_rows) == {"solo-1", "short-1", "fam-1", "fam-2", "pair-1", "pair-2", "gone-2"}
    assert {row[0] for row in tables["erased_cases"]} == {"gone-1", "lone-1", "shredded-1"}
    assert (case_rows["solo-1"][3], case_rows["short-1"][3]) == ("mgr-3", "mgr-5")
    assert {row[0] for row in tables["obligations"]} >= {"solo-1", "fam-2", "pair-2", "gone-2"}
    assert {row[0] for row in tables["timers"]} >= {"solo-1", "fam-2"}
