"""What a message may say: the employee's name, the obligation and the date. Nothing else.

Templates see only the ``MessageContext`` built here, never an event or a case: no grade,
no diagnosis, no sick-note detail can reach a message, whatever a tenant's template asks for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from notification_service.domain.vocabulary import Language

TEMPLATE_NAMES = (
    "obligation_approaching",
    "obligation_due",
    "obligation_overdue",
    "follow_up_invitation",
    "activity_requirement_notice",
    "meeting_invitation",
    "meeting_changed",
    "meeting_cancelled",
    "test_message",
)

OBLIGATION_LABELS: dict[str, dict[Language, str]] = {
    "employer_period_end": {
        "nb": "slutt på arbeidsgiverperioden",
        "en": "end of the employer period",
    },
    "follow_up_plan": {"nb": "oppfølgingsplan", "en": "follow-up plan"},
    "plan_to_doctor": {
        "nb": "oppfølgingsplan sendt til sykmelder",
        "en": "plan shared with the doctor",
    },
    "dialogue_meeting_1": {"nb": "dialogmøte 1", "en": "dialogue meeting 1"},
    "activity_requirement": {"nb": "aktivitetsplikt", "en": "activity requirement"},
    "meeting_need_query": {"nb": "behov for dialogmøte 2", "en": "need for dialogue meeting 2"},
    "revised_plan_to_nav": {"nb": "revidert oppfølgingsplan til NAV", "en": "revised plan to NAV"},
    "dialogue_meeting_2": {"nb": "dialogmøte 2", "en": "dialogue meeting 2"},
    "dialogue_meeting_3": {"nb": "dialogmøte 3", "en": "dialogue meeting 3"},
    "week_39_notice": {"nb": "brev fra NAV ved 39 uker", "en": "NAV's letter at 39 weeks"},
    "aap_application": {
        "nb": "søknad om arbeidsavklaringspenger",
        "en": "work assessment allowance application",
    },
    "max_date": {"nb": "maksdato for sykepenger", "en": "last day of sick pay"},
    "employment_review": {"nb": "vurdering av arbeidsforholdet", "en": "employment review"},
}
EMPLOYEE_FALLBACK: dict[Language, str] = {"nb": "den sykmeldte", "en": "the employee"}
GREETING_FALLBACK: dict[Language, str] = {"nb": "Hei", "en": "Hello"}
MONTHS: dict[Language, tuple[str, ...]] = {
    "nb": (
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


@dataclass(frozen=True)
class MessageContext:
    """Every variable a template can use (the same for the default and the tenant's own)."""

    language: Language
    recipient_name: str
    employee_name: str
    obligation: str
    obligation_kind: str
    due_date: str
    legal_basis: str
    meeting_number: str
    meeting_starts_at: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def message_context(
    facts: dict[str, Any],
    language: Language,
    *,
    zone: ZoneInfo,
    recipient_name: str | None,
    employee_name: str | None,
) -> MessageContext:
    """The context of one message from a delivery's stored facts and the names known now."""
    kind = str(facts.get("kind") or "")
    due = facts.get("due_date")
    starts = facts.get("starts_at")
    return MessageContext(
        language=language,
        recipient_name=recipient_name or "",
        employee_name=employee_name or EMPLOYEE_FALLBACK[language],
        obligation=OBLIGATION_LABELS.get(kind, {}).get(language, kind.replace("_", " ")),
        obligation_kind=kind,
        due_date=format_date(date.fromisoformat(due), language) if due else "",
        legal_basis=str(facts.get("legal_basis") or ""),
        meeting_number=str(facts.get("meeting_number") or ""),
        meeting_starts_at=(
            format_moment(datetime.fromisoformat(starts), language, zone) if starts else ""
        ),
    )


def sample_context(language: Language) -> MessageContext:
    """A context with every variable filled, to try a tenant's template before storing it."""
    facts = {
        "kind": "follow_up_plan",
        "due_date": "2026-02-01",
        "legal_basis": "aml § 4-6 (3)",
        "meeting_number": 1,
        "starts_at": "2026-02-10T09:00:00+00:00",
    }
    return message_context(
        facts, language, zone=ZoneInfo("Europe/Oslo"), recipient_name="Kari", employee_name="Ola"
    )


def format_date(day: date, language: Language) -> str:
    """1. februar 2026 (nb) or 1 February 2026 (en)."""
    separator = ". " if language == "nb" else " "
    return f"{day.day}{separator}{MONTHS[language][day.month - 1]} {day.year}"


def format_moment(moment: datetime, language: Language, zone: ZoneInfo) -> str:
    """A meeting time in the tenant's local time: 10. februar 2026 kl. 10:00."""
    local = moment.astimezone(zone)
    joiner = " kl. " if language == "nb" else " at "
    return f"{format_date(local.date(), language)}{joiner}{local:%H:%M}"
