"""Case documents made from case events, as canonical JSON (content-addressed by SHA-256).

Four kinds, each one document per case or per thing it is about, with every version kept:
the follow-up plan (oppfølgingsplan, a new version per revision), the minutes of a dialogue
meeting (referat fra dialogmøte), an adjustment (tilrettelegging, a new version per evaluation)
and an expert assistance application (søknad om ekspertbistand, a new version with NAV's decision).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from naervaer.contracts.document import DocumentKind, PartyRole
from naervaer.dossier.canonical import canonical_bytes, sha256_hex
from naervaer.dossier.chain import timestamp

DOCUMENT_FORMAT = "naervaer-document/1"
_IDS = uuid.UUID("6f1d0c52-3f0e-4d8e-9a51-2c3b7a0e9d14")  # namespace of the uuid5 document ids

REQUIRED_ROLES: dict[DocumentKind, tuple[PartyRole, ...]] = {
    # "If it is not written down, it did not happen": both sides sign what they agreed.
    "follow_up_plan": ("employee", "manager"),
    "dialogue_meeting_minutes": ("employee", "manager"),
    "adjustment_record": ("employee", "manager"),
    # Expert assistance needs employer and employee to agree before NAV decides.
    "expert_assistance_application": ("employee", "manager"),
}


@dataclass(frozen=True)
class SourceEvent:
    """The case event a document version is made from."""

    event_id: str
    event_type: str
    recorded_at: datetime
    tenant: str
    case_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Target:
    """Which document an event writes: its kind and the thing it is about within the case."""

    kind: DocumentKind
    key: str

    def document_id(self, tenant: str, case_id: str) -> str:
        """Stable id: the same event always writes the same document (redelivery, rebuild)."""
        return str(uuid.uuid5(_IDS, f"{tenant}/{case_id}/{self.kind}/{self.key}"))


@dataclass(frozen=True)
class RenderedVersion:
    document_id: str
    kind: DocumentKind
    title: str
    version: int
    content: bytes
    document_hash: str
    required_roles: tuple[PartyRole, ...]


_TARGETS: dict[str, Callable[[Mapping[str, Any]], Target]] = {
    "case.follow_up_plan_created": lambda d: Target("follow_up_plan", "plan"),
    "case.follow_up_plan_revised": lambda d: Target("follow_up_plan", "plan"),
    "case.dialogue_meeting_held": lambda d: Target("dialogue_meeting_minutes", d["meeting_id"]),
    "case.adjustment_recorded": lambda d: Target("adjustment_record", d["adjustment_id"]),
    "case.adjustment_evaluated": lambda d: Target("adjustment_record", d["adjustment_id"]),
    "case.expert_assistance_requested": lambda d: Target(
        "expert_assistance_application", d["request_id"]
    ),
    "case.expert_assistance_decided": lambda d: Target(
        "expert_assistance_application", d["request_id"]
    ),
}
DOCUMENTED_EVENTS = frozenset(_TARGETS)


def target_of(event: SourceEvent) -> Target | None:
    """The document ``event`` writes a version of, or None when it makes no document."""
    target = _TARGETS.get(event.event_type)
    return None if target is None else target(event.data)


def body_of(event: SourceEvent, previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """The new version's body; ``previous`` is the latest version's body (evaluations, decisions
    add to what was recorded before)."""
    data = {k: v for k, v in event.data.items() if k != "case_id"}
    earlier = dict(previous or {})
    match event.event_type:
        case "case.adjustment_recorded":
            return {"adjustment": data, "evaluations": []}
        case "case.adjustment_evaluated":
            evaluations = [*earlier.get("evaluations", []), data]
            return {"adjustment": earlier.get("adjustment"), "evaluations": evaluations}
        case "case.expert_assistance_requested":
            return {"application": data, "decision": None}
        case "case.expert_assistance_decided":
            return {"application": earlier.get("application"), "decision": data}
        case _:
            return data


def title_of(kind: DocumentKind, body: Mapping[str, Any]) -> str:
    if kind == "follow_up_plan":
        return f"Follow-up plan (oppfølgingsplan), plan version {body.get('plan_version', 1)}"
    if kind == "dialogue_meeting_minutes":
        number = body.get("meeting_number", "")
        return f"Minutes of dialogue meeting {number} (referat fra dialogmøte {number})"
    if kind == "adjustment_record":
        area = str((body.get("adjustment") or {}).get("area", "")).replace("_", " ")
        return f"Adjustment (tilrettelegging): {area}".rstrip(": ")
    return "Expert assistance application (søknad om ekspertbistand)"


def render(
    event: SourceEvent, target: Target, *, version: int, previous: Mapping[str, Any] | None
) -> RenderedVersion:
    """Version ``version`` of the document ``event`` writes, as canonical JSON bytes."""
    body = body_of(event, previous)
    document_id = target.document_id(event.tenant, event.case_id)
    title = title_of(target.kind, body)
    content = canonical_bytes(
        {
            "format": DOCUMENT_FORMAT,
            "document_id": document_id,
            "kind": target.kind,
            "title": title,
            "tenant": event.tenant,
            "case_id": event.case_id,
            "version": version,
            "produced_by": {
                "event_id": event.event_id,
                "event_type": event.event_type,
                "recorded_at": timestamp(event.recorded_at),
            },
            "body": body,
        }
    )
    return RenderedVersion(
        document_id=document_id,
        kind=target.kind,
        title=title,
        version=version,
        content=content,
        document_hash=sha256_hex(content),
        required_roles=REQUIRED_ROLES[target.kind],
    )
