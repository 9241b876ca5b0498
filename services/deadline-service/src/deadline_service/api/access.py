"""Who sees which obligations: the shared case-access policy, applied to timelines and lists.

Every case shown is recorded as read (innsynslogg), whether it came alone or in a list.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from sqlalchemy import ColumnElement, or_

from deadline_service.adapters.repository import CaseHeader
from deadline_service.adapters.tables import obligations
from deadline_service.app.queries import Entry
from naervaer.auth.fastapi import authorize, forbidden
from naervaer.auth.policy import CaseRef, Decision, can_export_personal_data, can_read_case
from naervaer.auth.principal import Principal, Role

TENANT_WIDE_READERS = frozenset({Role.HR, Role.AUDITOR, Role.SYSTEM, Role.NAV, Role.BHT})
"""Roles whose case-read rule covers every case of the tenant (see naervaer.auth.policy)."""


def case_ref(case: CaseHeader | Entry) -> CaseRef:
    return CaseRef(case.tenant, case.case_id, case.employee_id, case.manager_id, case.org_unit)


async def authorize_case(request: Request, principal: Principal, case: CaseHeader) -> None:
    await authorize(
        request,
        principal,
        can_read_case(principal, case_ref(case)),
        operation="read",
        resource="timeline",
        resource_id=case.case_id,
        case_id=case.case_id,
    )


def worklist_scope(principal: Principal) -> list[ColumnElement[bool]]:
    """SQL narrowing to what the caller may see; the policy still decides row by row."""
    if principal.roles & TENANT_WIDE_READERS:
        return []
    own = []
    if principal.has(Role.MANAGER):
        own.append(obligations.c.manager_id == principal.subject)
    if principal.has(Role.EMPLOYEE):
        own.append(obligations.c.employee_id == principal.subject)
    if not own:
        reason = "no role permits reading obligations"
        raise forbidden(Decision(False, reason))
    return [or_(*own)]


def refuse_other_managers(principal: Principal, manager_id: str | None) -> None:
    """A manager asks for their own cases only; tenant-wide readers may ask for any."""
    if manager_id is None or manager_id == principal.subject:
        return
    if not principal.roles & TENANT_WIDE_READERS:
        raise forbidden(Decision(False, "a manager sees only the cases they manage"))


async def readable(request: Request, principal: Principal, entries: Iterable[Entry]) -> list[Entry]:
    """The entries whose case the caller may read; each such case is recorded once."""
    allowed: dict[str, bool] = {}
    shown = []
    for entry in entries:
        if entry.case_id not in allowed:
            decision = can_read_case(principal, case_ref(entry))
            allowed[entry.case_id] = decision.allowed
            if decision.allowed:
                await authorize(
                    request,
                    principal,
                    decision,
                    operation="read",
                    resource="obligations",
                    resource_id=entry.case_id,
                    case_id=entry.case_id,
                )
        if allowed[entry.case_id]:
            shown.append(entry)
    return shown


def export_decision(principal: Principal, employee_id: str) -> Decision:
    """The shared export rule (innsyn, GDPR art. 15), in the caller's own tenant."""
    return can_export_personal_data(principal, principal.tenant, employee_id)
