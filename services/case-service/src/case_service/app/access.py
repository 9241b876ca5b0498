"""Access decisions beyond the shared case policy: acts reserved to some roles, and acts on
the employee's and the tenant's own records (not on a case)."""

from __future__ import annotations

from dataclasses import replace

from case_service.domain.case import Case
from naervaer.auth.policy import (
    TENANT_MISMATCH,
    CaseRef,
    Decision,
    can_export_personal_data,
    can_write_case,
)
from naervaer.auth.principal import Principal, Role

_TENANT_ADMINS = ((Role.HR, "HR of the tenant"), (Role.SYSTEM, "internal service call"))
"""Who changes the employer's own records (case policy, an employee's right to self-certify)."""


def case_ref(case: Case) -> CaseRef:
    """What the policy needs to know, with the current manager (after any reassignment)."""
    assert case.opened is not None
    assert case.tenant is not None
    assert case.manager_id is not None
    return CaseRef(
        tenant=case.tenant,
        case_id=case.case_id,
        employee_id=case.opened.employee_id,
        manager_id=case.manager_id,
        org_unit=case.opened.org_unit,
    )


def case_write_decision(
    principal: Principal, case: Case, action: str, only: frozenset[Role] | None = None
) -> Decision:
    """``can_write_case``, counting only the roles in ``only`` when the act is reserved."""
    if only is None:
        return can_write_case(principal, case_ref(case), action)
    decision = can_write_case(
        replace(principal, roles=principal.roles & only), case_ref(case), action
    )
    if decision.allowed or decision.reason == TENANT_MISMATCH:
        return decision
    return Decision(False, f"{action} is reserved to {' or '.join(sorted(only))}")


def tenant_admin_decision(principal: Principal, tenant: str, action: str) -> Decision:
    """HR or the system of ``tenant`` may change the tenant's own records; across tenants 404."""
    if principal.tenant != tenant:
        return Decision(False, TENANT_MISMATCH)
    for role, reason in _TENANT_ADMINS:
        if role in principal.roles:
            return Decision(True, reason, role)
    return Decision(False, f"{action} is reserved to hr or system")


def hr_decision(principal: Principal, action: str) -> Decision:
    """Retention, legal hold and erasure are HR's: the employer's record keeping (HR only)."""
    if Role.HR in principal.roles:
        return Decision(True, "HR of the tenant", Role.HR)
    return Decision(False, f"{action} is reserved to hr")


def export_decision(principal: Principal, employee_id: str) -> Decision:
    """The shared export rule (innsyn, GDPR art. 15), in the caller's own tenant."""
    return can_export_personal_data(principal, principal.tenant, employee_id)
