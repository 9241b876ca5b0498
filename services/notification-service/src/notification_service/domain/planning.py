"""Deciding who hears what (hvem varsles om hva): from a deadline or meeting to notices.

The app layer loads what these functions need (policy, case parties, recipients' channel
preferences) and stores what they return, in the consumer's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from notification_service.domain.policy import TenantPolicy
from notification_service.domain.timing import send_after
from notification_service.domain.vocabulary import HR_RECIPIENT, Audience, Channel

_REPRESENTATIVES: dict[str, Audience] = {
    "union_representative": "union_representative",  # tillitsvalgt
    "safety_representative": "safety_representative",  # verneombud
}
MEETING_TEMPLATES = {
    "invited": "meeting_invitation",
    "changed": "meeting_changed",
    "cancelled": "meeting_cancelled",
}


@dataclass(frozen=True)
class Target:
    """One recipient of one piece of news, with the template that tells it."""

    audience: Audience
    recipient_id: str
    template: str


@dataclass(frozen=True)
class Notice:
    """A message to record: exactly once per (subject_key, stage, recipient_id, channel)."""

    subject_key: str
    stage: str
    audience: Audience
    recipient_id: str
    channel: Channel
    template: str
    facts: Mapping[str, Any]
    send_after: datetime


@dataclass(frozen=True)
class ObligationStage:
    """A deadline event: an obligation of a case reached a reminder stage."""

    case_id: str
    kind: str
    due_date: date
    responsible: str
    legal_basis: str
    stage: str
    employee_id: str
    manager_id: str

    @property
    def subject_key(self) -> str:
        # The obligation, not the event: a re-announced stage (a new event id for the same
        # obligation and due date, e.g. after the deadline service rebuilt) is no news.
        return f"obligation:{self.case_id}:{self.kind}:{self.due_date.isoformat()}"

    @property
    def facts(self) -> dict[str, Any]:
        return {
            "case_id": self.case_id,
            "kind": self.kind,
            "due_date": self.due_date.isoformat(),
            "legal_basis": self.legal_basis,
            "employee_id": self.employee_id,
        }


@dataclass(frozen=True)
class MeetingParticipant:
    party: str
    party_id: str | None


def deadline_targets(policy: TenantPolicy, obligation: ObligationStage) -> list[Target]:
    """Who the policy says hears this stage of this obligation."""
    rules = policy.reminder_rules(obligation.stage, obligation.kind, obligation.responsible)
    ids = {"employee": obligation.employee_id, "manager": obligation.manager_id}
    targets = [
        Target(rule.audience, ids.get(rule.audience, HR_RECIPIENT), rule.template)
        for rule in rules
        if rule.audience in ("employee", "manager", "hr")
    ]
    return _unique(targets)


def meeting_targets(
    policy: TenantPolicy,
    stage: str,
    participants: Iterable[MeetingParticipant],
    *,
    employee_id: str,
    manager_id: str,
) -> list[Target]:
    """The employee always; the others only when they take part and the policy says so."""
    template = MEETING_TEMPLATES[stage]
    targets = [Target("employee", employee_id, template)]
    for participant in participants:
        recipient = _meeting_recipient(policy, participant, manager_id)
        if recipient is not None:
            targets.append(Target(recipient[0], recipient[1], template))
    return _unique(targets)


def notices(
    policy: TenantPolicy,
    targets: Iterable[Target],
    *,
    subject_key: str,
    stage: str,
    facts: Mapping[str, Any],
    preferences: Mapping[str, frozenset[Channel]],
    now: datetime,
    reminder: bool,
) -> list[Notice]:
    """One notice per target and channel, each with the earliest moment it may leave."""
    return [
        Notice(
            subject_key=subject_key,
            stage=stage,
            audience=target.audience,
            recipient_id=target.recipient_id,
            channel=channel,
            template=target.template,
            facts=facts,
            send_after=send_after(
                now, policy, audience=target.audience, channel=channel, reminder=reminder
            ),
        )
        for target in targets
        for channel in channels_for(policy, target, preferences.get(target.recipient_id))
    ]


def channels_for(
    policy: TenantPolicy, target: Target, preferred: frozenset[Channel] | None
) -> list[Channel]:
    """The recipient's channels (HR's from the policy); webhook only if the tenant has one."""
    wanted = policy.hr_channels if target.audience == "hr" else preferred or policy.default_channels
    usable = {c for c in wanted if c != "webhook" or policy.webhook_url is not None}
    return sorted(usable) or ["email"]


def _meeting_recipient(
    policy: TenantPolicy, participant: MeetingParticipant, manager_id: str
) -> tuple[Audience, str] | None:
    party = participant.party
    if party not in policy.meeting_audiences or party == "employee":
        return None
    if party == "hr":
        return "hr", HR_RECIPIENT
    if party == "manager":
        return "manager", participant.party_id or manager_id
    representative = _REPRESENTATIVES.get(party)
    if representative is not None and participant.party_id:
        return representative, participant.party_id
    return None  # without a party id we cannot know who the representative is


def _unique(targets: list[Target]) -> list[Target]:
    # One message per person and piece of news, even if two rules (or two roles) name them.
    seen: set[str] = set()
    unique = []
    for target in targets:
        if target.recipient_id not in seen:
            seen.add(target.recipient_id)
            unique.append(target)
    return unique
