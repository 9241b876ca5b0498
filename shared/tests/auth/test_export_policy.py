"""The personal-data export rule (innsyn, GDPR art. 15): HR of the tenant or the employee
themself, every other role refused, one reason text for every service."""

from __future__ import annotations

import pytest

from naervaer.auth.policy import (
    EXPORT_REFUSED,
    TENANT_MISMATCH,
    Decision,
    can_export_personal_data,
)
from naervaer.auth.principal import Principal, Role

ME = "emp-1"


def caller(*roles: Role, subject: str = ME, tenant: str = "t1") -> Principal:
    return Principal(subject=subject, tenant=tenant, roles=frozenset(roles))


@pytest.mark.parametrize("role", list(Role))
def test_only_hr_and_the_employee_themself_export(role: Role) -> None:
    own = can_export_personal_data(caller(role), "t1", ME)
    colleague = can_export_personal_data(caller(role), "t1", "emp-2")
    assert (own.allowed, colleague.allowed) == (
        role in {Role.HR, Role.EMPLOYEE},
        role is Role.HR,
    )


def test_the_reasons_name_the_basis() -> None:
    assert can_export_personal_data(caller(Role.EMPLOYEE), "t1", ME) == Decision(
        True, "the employee's own personal data", Role.EMPLOYEE
    )
    assert can_export_personal_data(caller(Role.HR), "t1", "emp-2") == Decision(
        True, "HR of the tenant", Role.HR
    )


def test_a_refusal_gives_the_one_reason_and_the_roles_held() -> None:
    refused = can_export_personal_data(caller(Role.SYSTEM, Role.MANAGER), "t1", ME)
    assert refused == Decision(False, f"{EXPORT_REFUSED} (roles: manager, system)", None)
    nobody = can_export_personal_data(caller(), "t1", ME)
    assert nobody.reason == f"{EXPORT_REFUSED} (roles: none)"


def test_hr_exporting_their_own_data_does_so_as_the_employee() -> None:
    decision = can_export_personal_data(caller(Role.HR, Role.EMPLOYEE), "t1", ME)
    assert decision.basis_role is Role.EMPLOYEE


@pytest.mark.parametrize("role", [Role.HR, Role.EMPLOYEE])
def test_no_export_crosses_a_tenant(role: Role) -> None:
    decision = can_export_personal_data(caller(role, tenant="t2"), "t1", ME)
    assert decision == Decision(False, TENANT_MISMATCH, None)
