"""Who is calling: the authenticated principal and the roles the platform knows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """A role claim in the bearer token (``roles``)."""

    EMPLOYEE = "employee"  # arbeidstaker: the sick-listed person
    MANAGER = "manager"  # nærmeste leder: follows up the cases they manage
    HR = "hr"  # HR of the employer (tenant)
    NAV = "nav"  # NAV: dialogmøte 2, aktivitetskrav, ekspertbistand
    BHT = "bht"  # bedriftshelsetjeneste: occupational health service
    AUDITOR = "auditor"  # reads for audit, never writes
    SYSTEM = "system"  # internal service-to-service calls


@dataclass(frozen=True)
class Principal:
    """The verified caller of one request; always bound to exactly one tenant (employer)."""

    subject: str
    tenant: str
    roles: frozenset[Role]
    token_id: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles
