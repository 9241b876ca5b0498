"""The one authorisation model of Nærvær: who may read and write which sick-leave case.

Pure functions, no I/O. Every decision names the role it rests on (``basis_role``) so the
access record (innsynslogg) can say why someone saw a case. Rules:

- nobody ever crosses a tenant (employer);
- employee (arbeidstaker): reads their own case, performs only their own acts;
- manager (nærmeste leder): reads and writes the cases they currently manage;
- hr: reads and writes every case of the tenant;
- nav: reads cases (dialogmøte 2, aktivitetskrav) and performs only NAV's acts;
- bht (bedriftshelsetjeneste): reads cases, writes nothing by default;
- auditor: reads everything of the tenant, writes nothing;
- system: everything within the tenant (internal service-to-service calls);
- the export of everything held about an employee (innsyn, GDPR art. 15) is for HR of the
  tenant and the employee themself only: no other role, not even the system.

Acts that only their owner may perform (the employee's consent, NAV's decisions) are
reserved: managers and HR cannot perform them on someone else's behalf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from naervaer.auth.principal import Principal, Role

EMPLOYEE_ACTIONS = frozenset({"sign", "consent", "self_certify"})
"""What the employee does: sign the follow-up plan, give consent, self-certify (egenmelding)."""
EMPLOYEE_ONLY_ACTIONS = frozenset({"consent", "self_certify"})
"""The employee's personal acts: nobody but the employee (or the system relaying them)."""
NAV_ACTIONS = frozenset(
    {"nav_meeting", "activity_assessment", "expert_assistance_decision", "meeting_exception"}
)
"""NAV's acts: dialogmøte 2, aktivitetskrav, ekspertbistand, unntak fra dialogmøte."""
BHT_ACTIONS: frozenset[str] = frozenset()
"""The occupational health service writes nothing unless a tenant grants it (none by default)."""
RESERVED_ACTIONS = EMPLOYEE_ONLY_ACTIONS | NAV_ACTIONS
TENANT_MISMATCH = "tenant mismatch"
EXPORT_REFUSED = "only HR or the employee themself may export personal data"
"""Why an export of an employee's personal data was refused (the roles held follow)."""

# The narrowest role is named first, so the access record gives the least privilege that
# sufficed (an HR employee reading their own case reads it as employee).
ROLE_PRECEDENCE = (
    Role.EMPLOYEE,
    Role.MANAGER,
    Role.BHT,
    Role.NAV,
    Role.AUDITOR,
    Role.HR,
    Role.SYSTEM,
)


@dataclass(frozen=True)
class CaseRef:
    """What the policy needs to know about a case (sykefraværstilfelle)."""

    tenant: str
    case_id: str
    employee_id: str
    manager_id: str
    org_unit: str


@dataclass(frozen=True)
class Decision:
    """Allowed or not, why, and on which of the caller's roles."""

    allowed: bool
    reason: str
    basis_role: Role | None = None


# A rule gives the reason it allows, or None when the role does not allow.
_ReadRule = Callable[[Principal, CaseRef], str | None]
_WriteRule = Callable[[Principal, CaseRef, str], str | None]

_READ_RULES: dict[Role, _ReadRule] = {
    Role.EMPLOYEE: lambda p, c: "own case" if c.employee_id == p.subject else None,
    Role.MANAGER: lambda p, c: "manages the case" if c.manager_id == p.subject else None,
    Role.BHT: lambda p, c: "occupational health service assists the follow-up",
    Role.NAV: lambda p, c: "NAV follow-up (dialogmøte 2, aktivitetskrav)",
    Role.AUDITOR: lambda p, c: "audit of the tenant",
    Role.HR: lambda p, c: "HR of the tenant",
    Role.SYSTEM: lambda p, c: "internal service call",
}

_WRITE_RULES: dict[Role, _WriteRule] = {
    Role.EMPLOYEE: lambda p, c, a: (
        "employee's own act" if c.employee_id == p.subject and a in EMPLOYEE_ACTIONS else None
    ),
    Role.MANAGER: lambda p, c, a: (
        "manages the case" if c.manager_id == p.subject and a not in RESERVED_ACTIONS else None
    ),
    Role.BHT: lambda p, c, a: (
        "granted to the occupational health service" if a in BHT_ACTIONS else None
    ),
    Role.NAV: lambda p, c, a: "NAV's act" if a in NAV_ACTIONS else None,
    Role.AUDITOR: lambda p, c, a: None,
    Role.HR: lambda p, c, a: "HR of the tenant" if a not in RESERVED_ACTIONS else None,
    Role.SYSTEM: lambda p, c, a: "internal service call",
}

_OPENERS: dict[Role, str] = {
    Role.MANAGER: "manager reports an absence",
    Role.HR: "HR of the tenant",
    Role.SYSTEM: "internal service call",
}
# An export rule gives the reason it allows, or None; roles without one never export.
_EXPORT_RULES: dict[Role, Callable[[Principal, str], str | None]] = {
    Role.EMPLOYEE: lambda p, e: "the employee's own personal data" if p.subject == e else None,
    Role.HR: lambda p, e: "HR of the tenant",
}
_TENANT_READERS: dict[Role, str] = {
    Role.AUDITOR: "audit of the tenant",
    Role.HR: "HR of the tenant",
    Role.SYSTEM: "internal service call",
}


def can_read_case(p: Principal, case: CaseRef) -> Decision:
    """May ``p`` see ``case``? (Every read is then logged as an access record.)"""
    if p.tenant != case.tenant:
        return _cross_tenant()
    return _first_allowing(
        p, lambda role: _READ_RULES[role](p, case), f"no role permits read case {case.case_id}"
    )


def can_write_case(p: Principal, case: CaseRef, action: str) -> Decision:
    """May ``p`` perform ``action`` (e.g. ``sign``, ``nav_meeting``) on ``case``?"""
    if p.tenant != case.tenant:
        return _cross_tenant()
    return _first_allowing(
        p,
        lambda role: _WRITE_RULES[role](p, case, action),
        f"no role permits {action} on case {case.case_id}",
    )


def can_open_case(p: Principal, tenant: str) -> Decision:
    """May ``p`` open a new case in ``tenant``? Managers, HR and the system may."""
    if p.tenant != tenant:
        return _cross_tenant()
    return _first_allowing(p, _OPENERS.get, "no role permits open a case")


def can_read_tenant_wide(p: Principal, tenant: str) -> Decision:
    """May ``p`` list or search every case of ``tenant``? HR, auditors and the system may."""
    if p.tenant != tenant:
        return _cross_tenant()
    return _first_allowing(p, _TENANT_READERS.get, "no role permits read tenant-wide")


def can_export_personal_data(p: Principal, tenant: str, employee_id: str) -> Decision:
    """May ``p`` export everything ``tenant`` holds about ``employee_id`` (innsyn, GDPR art. 15)?

    HR of the tenant, or the employee themself (innsynsrett); every other role is refused. An
    HR employee exporting their own data does so as the employee (the narrowest role).
    """
    if p.tenant != tenant:
        return _cross_tenant()
    return _first_allowing(p, lambda role: _exports(role, p, employee_id), EXPORT_REFUSED)


def _exports(role: Role, p: Principal, employee_id: str) -> str | None:
    rule = _EXPORT_RULES.get(role)
    return None if rule is None else rule(p, employee_id)


def _first_allowing(p: Principal, rule: Callable[[Role], str | None], refusal: str) -> Decision:
    for role in ROLE_PRECEDENCE:
        if role in p.roles:
            reason = rule(role)
            if reason is not None:
                return Decision(True, reason, role)
    held = ", ".join(sorted(p.roles)) or "none"
    return Decision(False, f"{refusal} (roles: {held})", None)


def _cross_tenant() -> Decision:
    # Deliberately says nothing about the other tenant's case.
    return Decision(False, TENANT_MISMATCH, None)
