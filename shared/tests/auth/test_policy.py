"""The authorisation matrix: role x (own, other manager's, other tenant's case) x read/write."""

from __future__ import annotations

import pytest

from naervaer.auth.policy import (
    EMPLOYEE_ACTIONS,
    NAV_ACTIONS,
    RESERVED_ACTIONS,
    CaseRef,
    Decision,
    can_open_case,
    can_read_case,
    can_read_tenant_wide,
    can_write_case,
)
from naervaer.auth.principal import Principal, Role

ME = "me"
# "Own" means the case the role relates to: the employee's own case, the manager's case.
OWN_AS_EMPLOYEE = CaseRef("t1", "c-emp", employee_id=ME, manager_id="boss", org_unit="ou1")
OWN_AS_MANAGER = CaseRef("t1", "c-mgr", employee_id="worker", manager_id=ME, org_unit="ou1")
OTHER_MANAGERS = CaseRef("t1", "c-other", employee_id="worker2", manager_id="boss2", org_unit="ou2")
# The ids match the caller on purpose: the tenant alone must deny.
FOREIGN = CaseRef("t2", "c-foreign", employee_id=ME, manager_id=ME, org_unit="ou1")

# role: (write action tried, (read own, read other, read foreign), (write own, other, foreign))
MATRIX: dict[Role, tuple[str, tuple[bool, bool, bool], tuple[bool, bool, bool]]] = {
    Role.EMPLOYEE: ("sign", (True, False, False), (True, False, False)),
    Role.MANAGER: ("update_plan", (True, False, False), (True, False, False)),
    Role.HR: ("update_plan", (True, True, False), (True, True, False)),
    Role.NAV: ("nav_meeting", (True, True, False), (True, True, False)),
    Role.BHT: ("update_plan", (True, True, False), (False, False, False)),
    Role.AUDITOR: ("update_plan", (True, True, False), (False, False, False)),
    Role.SYSTEM: ("update_plan", (True, True, False), (True, True, False)),
}


def principal(*roles: Role, tenant: str = "t1") -> Principal:
    return Principal(subject=ME, tenant=tenant, roles=frozenset(roles), token_id="j")


def own_case(role: Role) -> CaseRef:
    return OWN_AS_EMPLOYEE if role is Role.EMPLOYEE else OWN_AS_MANAGER


def assert_consistent(decision: Decision, role: Role) -> None:
    # An allow always names the role it rests on; a deny never does.
    assert decision.basis_role == (role if decision.allowed else None)
    assert decision.reason


@pytest.mark.parametrize("role", list(Role))
def test_read_matrix(role: Role) -> None:
    _, expected, _ = MATRIX[role]
    cases = (own_case(role), OTHER_MANAGERS, FOREIGN)
    decisions = [can_read_case(principal(role), case) for case in cases]
    assert tuple(d.allowed for d in decisions) == expected
    for decision in decisions:
        assert_consistent(decision, role)


@pytest.mark.parametrize("role", list(Role))
def test_write_matrix(role: Role) -> None:
    action, _, expected = MATRIX[role]
    cases = (own_case(role), OTHER_MANAGERS, FOREIGN)
    decisions = [can_write_case(principal(role), case, action) for case in cases]
    assert tuple(d.allowed for d in decisions) == expected
    for decision in decisions:
        assert_consistent(decision, role)


def test_the_matrix_covers_every_role() -> None:
    assert set(MATRIX) == set(Role)


@pytest.mark.parametrize("role", list(Role))
def test_tenant_mismatch_denies_every_role_and_reveals_nothing(role: Role) -> None:
    for p in (principal(role), principal(*Role)):  # even all roles together
        for decision in (
            can_read_case(p, FOREIGN),
            can_write_case(p, FOREIGN, "update_plan"),
            can_open_case(p, "t2"),
            can_read_tenant_wide(p, "t2"),
        ):
            assert decision == Decision(False, "tenant mismatch", None)


@pytest.mark.parametrize("action", sorted(EMPLOYEE_ACTIONS))
def test_employee_performs_own_acts_only_on_own_case(action: str) -> None:
    assert can_write_case(principal(Role.EMPLOYEE), OWN_AS_EMPLOYEE, action).allowed
    assert not can_write_case(principal(Role.EMPLOYEE), OTHER_MANAGERS, action).allowed


@pytest.mark.parametrize("action", ["update_plan", "nav_meeting", "close"])
def test_employee_cannot_do_what_is_not_theirs(action: str) -> None:
    assert not can_write_case(principal(Role.EMPLOYEE), OWN_AS_EMPLOYEE, action).allowed


@pytest.mark.parametrize("action", sorted(NAV_ACTIONS))
def test_nav_performs_nav_acts(action: str) -> None:
    decision = can_write_case(principal(Role.NAV), OTHER_MANAGERS, action)
    assert decision.allowed
    assert decision.basis_role is Role.NAV


@pytest.mark.parametrize("action", ["update_plan", "sign", "consent", "close"])
def test_nav_writes_nothing_else(action: str) -> None:
    assert not can_write_case(principal(Role.NAV), OTHER_MANAGERS, action).allowed


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR])
@pytest.mark.parametrize("action", sorted(RESERVED_ACTIONS))
def test_reserved_acts_cannot_be_done_on_someones_behalf(role: Role, action: str) -> None:
    assert not can_write_case(principal(role), OWN_AS_MANAGER, action).allowed


@pytest.mark.parametrize("action", sorted(RESERVED_ACTIONS))
def test_system_relays_reserved_acts(action: str) -> None:
    assert can_write_case(principal(Role.SYSTEM), OTHER_MANAGERS, action).allowed


@pytest.mark.parametrize("role", [Role.MANAGER, Role.HR])
def test_manager_and_hr_sign_the_plan(role: Role) -> None:
    assert can_write_case(principal(role), OWN_AS_MANAGER, "sign").allowed


def test_narrowest_role_is_the_basis() -> None:
    p = principal(Role.HR, Role.EMPLOYEE)
    assert can_read_case(p, OWN_AS_EMPLOYEE).basis_role is Role.EMPLOYEE
    assert can_read_case(p, OTHER_MANAGERS).basis_role is Role.HR


def test_no_role_no_access() -> None:
    decision = can_read_case(principal(), OWN_AS_EMPLOYEE)
    assert decision == Decision(False, "no role permits read case c-emp (roles: none)", None)


@pytest.mark.parametrize(
    ("role", "opens", "reads_tenant_wide"),
    [
        (Role.EMPLOYEE, False, False),
        (Role.MANAGER, True, False),
        (Role.HR, True, True),
        (Role.NAV, False, False),
        (Role.BHT, False, False),
        (Role.AUDITOR, False, True),
        (Role.SYSTEM, True, True),
    ],
)
def test_tenant_level_decisions(role: Role, opens: bool, reads_tenant_wide: bool) -> None:
    open_decision = can_open_case(principal(role), "t1")
    wide_decision = can_read_tenant_wide(principal(role), "t1")
    assert (open_decision.allowed, wide_decision.allowed) == (opens, reads_tenant_wide)
    assert_consistent(open_decision, role)
    assert_consistent(wide_decision, role)
