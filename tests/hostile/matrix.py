"""The authorisation matrix: every operation of every service's OpenAPI document, what the
access policy expects of it per role and target, and the request that tries it.

Operations addressing a case (a ``{case_id}`` or ``{document_id}`` in the path) are judged by
``naervaer.auth.policy`` itself: ``can_read_case`` for reads, ``can_write_case`` with the
command's action for writes. The others are tenant-level and judged by ``TENANT_LEVEL``, an
explicit table; an operation in neither fails the test until someone classifies it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from case_service.app.commands.base import CaseCommand, Command
from naervaer.auth.policy import (
    CaseRef,
    Decision,
    can_open_case,
    can_read_case,
    can_read_tenant_wide,
    can_write_case,
)
from naervaer.auth.principal import Principal, Role

WRITES = frozenset({"post", "put", "patch", "delete"})
PUBLIC = Decision(True, "public (development tooling or public keys)")
LISTING = Decision(True, "a listing: what it shows is checked item by item")
TARGETS = ("own case", "other manager's case", "other tenant's case")


@dataclass(frozen=True)
class Operation:
    service: str
    method: str  # lower case, as in OpenAPI
    path: str
    spec: dict[str, Any]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.method, self.path)

    @property
    def on_a_case(self) -> bool:
        return "{case_id}" in self.path or "{document_id}" in self.path

    @property
    def writes(self) -> bool:
        return self.method in WRITES


def operations(service: str, document: dict[str, Any]) -> Iterator[Operation]:
    for path, item in document["paths"].items():
        for method, spec in item.items():
            if method in ("get", *WRITES):
                yield Operation(service, method, path, spec)


def principal(role: str, subject: str, tenant: str) -> Principal:
    return Principal(subject=subject, tenant=tenant, roles=frozenset({Role(role)}))


def _roles(*allowed: Role) -> Callable[[Principal, str], Decision]:
    def decide(p: Principal, tenant: str) -> Decision:
        if p.tenant != tenant:
            return Decision(False, "tenant mismatch")
        return Decision(bool(p.roles & set(allowed)), f"reserved to {sorted(allowed)}")

    return decide


ADMIN = _roles(Role.HR, Role.SYSTEM)
"""Changing the tenant's own records and settings: HR and the system."""


HR_ONLY = _roles(Role.HR)
"""Retention, legal hold and erasure of an employee's personal data: HR alone."""


def _export(p: Principal, tenant: str, employee_id: str) -> Decision:
    """Everything held about an employee (GDPR art. 15): HR, or the employee themself."""
    if p.tenant == tenant and Role.EMPLOYEE in p.roles and p.subject == employee_id:
        return Decision(True, "the employee's own data")
    return HR_ONLY(p, tenant)


def _tenant_wide(p: Principal, tenant: str) -> Decision:
    return can_read_tenant_wide(p, tenant)


def _party(p: Principal, tenant: str, party: str) -> Decision:
    if p.tenant == tenant and p.subject == party:
        return Decision(True, "own notifications")
    return can_read_tenant_wide(p, tenant)


def _calendar(p: Principal, manager_id: str) -> Decision:
    if Role.MANAGER in p.roles and p.subject == manager_id:
        return Decision(True, "own deadlines")
    return Decision(bool(p.roles & {Role.HR, Role.SYSTEM}), "HR or system")


TenantRule = Callable[[Principal, str, dict[str, str]], Decision]
"""(caller, the tenant in the path or the caller's, path parameters) → decision."""

TENANT_LEVEL: dict[tuple[str, str, str], TenantRule] = {
    ("case", "post", "/v1/cases"): lambda p, t, _: can_open_case(p, t),
    ("case", "get", "/v1/cases"): lambda p, t, _: LISTING,
    ("case", "get", "/v1/statistics/absence"): lambda p, t, _: _roles(Role.HR, Role.AUDITOR)(p, t),
    ("case", "get", "/v1/tenants/{tenant}/case-policy"): lambda p, t, _: _tenant_wide(p, t),
    ("case", "put", "/v1/tenants/{tenant}/case-policy"): lambda p, t, _: ADMIN(p, t),
    ("case", "post", "/v1/employees/{employee_id}/self-certification/withdraw"): (
        lambda p, t, _: ADMIN(p, t)
    ),
    ("case", "post", "/v1/employees/{employee_id}/self-certification/restore"): (
        lambda p, t, _: ADMIN(p, t)
    ),
    ("case", "get", "/v1/tenant/retention-policy"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "put", "/v1/tenant/retention-policy"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "put", "/v1/employees/{employee_id}/legal-hold"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "delete", "/v1/employees/{employee_id}/legal-hold"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "get", "/v1/employees/{employee_id}/retention"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "post", "/v1/employees/{employee_id}/erasure"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "post", "/v1/privacy/erasure-sweep"): lambda p, t, _: HR_ONLY(p, t),
    ("case", "get", "/v1/employees/{employee_id}/personal-data"): (
        lambda p, t, params: _export(p, t, params["employee_id"])
    ),
    ("deadline", "get", "/v1/obligations"): lambda p, t, _: LISTING,
    ("deadline", "get", "/v1/managers/{manager_id}/deadlines.ics"): (
        lambda p, t, params: _calendar(p, params["manager_id"])
    ),
    ("deadline", "get", "/v1/dev/clock"): lambda p, t, _: PUBLIC,
    ("deadline", "put", "/v1/dev/clock"): lambda p, t, _: PUBLIC,
    ("notification", "get", "/v1/recipients/{party_id}/deliveries"): (
        lambda p, t, params: _party(p, t, params["party_id"])
    ),
    ("notification", "get", "/v1/recipients/{party_id}"): (
        lambda p, t, params: _party(p, t, params["party_id"])
    ),
    ("notification", "put", "/v1/recipients/{party_id}"): lambda p, t, _: ADMIN(p, t),
    ("notification", "get", "/v1/deliveries/{delivery_id}"): lambda p, t, _: _tenant_wide(p, t),
    ("notification", "post", "/v1/test-send"): lambda p, t, _: ADMIN(p, t),
    ("notification", "get", "/v1/policy"): lambda p, t, _: _tenant_wide(p, t),
    ("notification", "put", "/v1/policy"): lambda p, t, _: ADMIN(p, t),
    ("notification", "get", "/v1/templates"): lambda p, t, _: _tenant_wide(p, t),
    ("notification", "get", "/v1/templates/{name}/{language}"): lambda p, t, _: _tenant_wide(p, t),
    ("notification", "put", "/v1/templates/{name}/{language}"): lambda p, t, _: ADMIN(p, t),
    ("notification", "delete", "/v1/templates/{name}/{language}"): lambda p, t, _: ADMIN(p, t),
    ("document", "get", "/v1/audit/keys"): lambda p, t, _: PUBLIC,
    ("document", "get", "/v1/audit/verify"): lambda p, t, _: _tenant_wide(p, t),
    **{
        (service, "get", "/v1/employees/{employee_id}/personal-data"): (
            lambda p, t, params: _export(p, t, params["employee_id"])
        )
        for service in ("deadline", "notification", "document")
    },
}

# Writes on a case outside the case service: the action the document service asks for.
DOCUMENT_ACTIONS = {
    "/v1/documents/{document_id}/versions/{version}/signatures": "sign",
    "/v1/documents/{document_id}/versions/{version}/refusals": "sign",
    "/v1/cases/{case_id}/documents/{document_id}/attachments": "attach_document",
}
SELF_CERTIFY = "self_certify"  # egenmelding: the employee's own act (policy.EMPLOYEE_ONLY_ACTIONS)
RESERVED_ACTS = {
    "/v1/cases/{case_id}/self-certifications": SELF_CERTIFY,
    "/v1/cases/{case_id}/doctor-consent": "consent",
    "/v1/cases/{case_id}/activity-requirement-assessments": "activity_assessment",
    "/v1/cases/{case_id}/expert-assistance-requests/{request_id}/decide": (
        "expert_assistance_decision"
    ),
    "/v1/cases/{case_id}/meeting-exceptions": "meeting_exception",
}
"""The employee's and NAV's own acts, by route, written out rather than read from the code: a
route that stopped naming its reserved act would otherwise pass unnoticed."""
STRICTER = {"waive_obligation": frozenset({Role.HR, Role.SYSTEM})}
"""Acts the case service keeps narrower than the shared policy: waiving an obligation is HR's."""


@dataclass(frozen=True)
class CaseAction:
    """What a write on a case is judged as: the action, and the roles it is reserved to."""

    action: str
    only: frozenset[Role] | None = None
    code_says: frozenset[Role] | None = None  # what the command class declares

    def decide(self, p: Principal, ref: CaseRef) -> Decision:
        judged = replace(p, roles=p.roles & self.only) if self.only is not None else p
        return can_write_case(judged, ref, self.action)


def case_action(op: Operation, body: dict[str, Any] | None) -> CaseAction:
    """The action a case-service command asks the policy for, from its route's body model."""
    if op.path.endswith("/self-certifications"):
        return CaseAction(SELF_CERTIFY)
    model = _body_model(op)
    command = next(
        (c for c in _commands() if issubclass(c, model) and "action" in vars(c)),
        None,
    )
    if command is None:
        raise LookupError(f"no case command behind {op.method} {op.path}")
    action = command.action
    if (body or {}).get("meeting_number") == 2:  # meeting 2 is NAV's (follow_up commands)
        action = "nav_meeting"
    return CaseAction(action, STRICTER.get(action), code_says=command.only_roles)


def disagreements(op: Operation, action: CaseAction) -> list[str]:
    """Where the command's own declaration differs from the matrix's written-out tables."""
    found = []
    if op.path in RESERVED_ACTS and action.action != RESERVED_ACTS[op.path]:
        found.append(f"{op.path} is judged as {action.action}, not {RESERVED_ACTS[op.path]}")
    if op.service == "case" and action.code_says != action.only:
        found.append(f"{op.path} reserves {action.code_says}, the matrix expects {action.only}")
    return found


def read_or_write(op: Operation, body: dict[str, Any] | None) -> CaseAction | None:
    """None for a read of the case; else the write's action."""
    if not op.writes:
        return None
    if op.service == "case":
        return case_action(op, body)
    return CaseAction(DOCUMENT_ACTIONS[op.path])


def expected_on_case(p: Principal, ref: CaseRef, action: CaseAction | None) -> Decision:
    return can_read_case(p, ref) if action is None else action.decide(p, ref)


def _body_model(op: Operation) -> type:
    """The command model of the request body, by the schema name OpenAPI gives it."""
    schema = op.spec["requestBody"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[1]
    return next(model for model in _subclasses(Command) if model.__name__ == name)


def _subclasses(cls: type[Command]) -> Iterator[type[Command]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _commands() -> Iterator[type[CaseCommand]]:
    for sub in _subclasses(CaseCommand):
        assert issubclass(sub, CaseCommand)
        yield sub
