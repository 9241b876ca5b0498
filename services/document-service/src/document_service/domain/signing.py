"""Signing a document version (signering): who may, what they must prove, what is recorded.

A signature binds the signer, the party role they hold on the case, the time and the document
hash they read. The hash they send must equal the version's: they sign what they read, not
whatever is stored now. Each party decides once per version: sign, or refuse with a comment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from document_service.domain.errors import Conflict, NotAParty
from naervaer.contracts.document import PartyRole
from naervaer.dossier.chain import timestamp

DecisionKind = Literal["signed", "refused"]
RoleStatus = Literal["signed", "refused", "missing"]


@dataclass(frozen=True)
class Parties:
    """The case's parties (partene) as the case events last named them."""

    employee_id: str
    manager_id: str

    def role_of(self, subject: str) -> PartyRole | None:
        if subject == self.employee_id:
            return "employee"
        if subject == self.manager_id:
            return "manager"
        return None

    def holder(self, role: PartyRole) -> str:
        return self.employee_id if role == "employee" else self.manager_id


@dataclass(frozen=True)
class SignatureDecision:
    """One party's decision on one version: signed, or refused with a comment."""

    document_id: str
    version: int
    role: PartyRole
    signer_id: str
    decision: DecisionKind
    document_hash: str
    decided_at: datetime
    comment: str | None = None

    def sealed(self) -> dict[str, object]:
        """The decision as the audit trail seals it (and the dossier lists it)."""
        return {
            "document_id": self.document_id,
            "version": self.version,
            "role": self.role,
            "signer_id": self.signer_id,
            "decision": self.decision,
            "document_hash": self.document_hash,
            "comment": self.comment,
            "decided_at": timestamp(self.decided_at),
        }


@dataclass(frozen=True)
class VersionToSign:
    document_id: str
    version: int
    document_hash: str
    required_roles: Sequence[PartyRole]
    decisions: Mapping[PartyRole, SignatureDecision]


def decide(
    target: VersionToSign,
    parties: Parties,
    *,
    subject: str,
    decision: DecisionKind,
    offered_hash: str | None,
    at: datetime,
    comment: str | None = None,
) -> tuple[SignatureDecision, bool]:
    """The decision of ``subject`` on ``target``, and whether it is new.

    Repeating the same decision returns the first one (a retried request); a different one
    after a decision is refused: what was signed stays signed.
    """
    role = parties.role_of(subject)
    if role is None or role not in target.required_roles:
        roles = ", ".join(target.required_roles)
        # Not the subject's id: problem details end up in logs, and an id is personal data.
        raise NotAParty(f"the caller holds none of the roles that sign this document ({roles})")
    if offered_hash is not None and offered_hash != target.document_hash:
        raise Conflict(
            "document_hash_mismatch",
            f"version {target.version} has hash {target.document_hash}, not {offered_hash}: "
            "read the version again before you decide",
        )
    earlier = target.decisions.get(role)
    if earlier is not None:
        return _repeated(earlier, subject, decision, comment), False
    made = SignatureDecision(
        target.document_id,
        target.version,
        role,
        subject,
        decision,
        target.document_hash,
        at,
        comment,
    )
    return made, True


def _repeated(
    earlier: SignatureDecision, subject: str, decision: DecisionKind, comment: str | None
) -> SignatureDecision:
    same = earlier.signer_id == subject and earlier.decision == decision
    if same and (decision == "signed" or earlier.comment == comment):
        return earlier
    raise Conflict(
        "already_decided",
        f"the {earlier.role} already {earlier.decision} version {earlier.version} "
        f"on {earlier.decided_at.date().isoformat()}",
    )


def role_statuses(
    required: Sequence[PartyRole], decisions: Mapping[PartyRole, SignatureDecision]
) -> dict[PartyRole, RoleStatus]:
    """For each role that must sign: signed, refused or still missing."""
    return {role: decisions[role].decision if role in decisions else "missing" for role in required}


def missing_roles(
    required: Sequence[PartyRole], decisions: Mapping[PartyRole, SignatureDecision]
) -> list[PartyRole]:
    """Roles whose signature the version still lacks (a refusal is not a signature)."""
    return [
        role for role, status in role_statuses(required, decisions).items() if status != "signed"
    ]
