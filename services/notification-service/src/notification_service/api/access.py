"""Who may see and change what in the notification API (on top of the case-access policy)."""

from __future__ import annotations

from naervaer.auth.policy import (
    ROLE_PRECEDENCE,
    TENANT_MISMATCH,
    Decision,
    can_export_personal_data,
    can_read_tenant_wide,
)
from naervaer.auth.principal import Principal, Role

__all__ = ["can_administer", "can_export_personal_data", "can_read_party"]
"""``can_export_personal_data`` is the shared rule (naervaer.auth.policy), kept importable here."""

_ADMINS = {Role.HR: "HR of the tenant", Role.SYSTEM: "internal service call"}


def can_administer(p: Principal, tenant: str) -> Decision:
    """Change recipients, the policy and templates, or send a test: HR and the system."""
    if p.tenant != tenant:
        return Decision(False, TENANT_MISMATCH)
    for role, reason in _ADMINS.items():
        if role in p.roles:
            return Decision(True, reason, role)
    held = ", ".join(sorted(p.roles)) or "none"
    return Decision(False, f"only HR may change notification settings (roles: {held})")


def can_read_party(p: Principal, tenant: str, party_id: str) -> Decision:
    """A party's address and deliveries: the party themself, or whoever reads tenant-wide."""
    if p.tenant == tenant and p.subject == party_id:
        role = next(r for r in ROLE_PRECEDENCE if r in p.roles)
        return Decision(True, "own notifications", role)
    return can_read_tenant_wide(p, tenant)
