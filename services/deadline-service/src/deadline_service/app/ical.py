"""A manager's deadlines as an iCalendar feed (RFC 5545): one all-day event per open duty."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from deadline_service.app.queries import Entry

PRODUCT = "-//Naervaer//Deadline service//EN"


def calendar(entries: Iterable[Entry], *, name: str, stamp: datetime) -> str:
    """The feed; ``stamp`` (UTC) is DTSTAMP. Only case ids travel: no health data."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for entry in entries:
        lines.extend(_event(entry, stamp))
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def _event(entry: Entry, stamp: datetime) -> list[str]:
    o = entry.obligation
    assert o.due_date is not None
    title = f"{o.kind.value.replace('_', ' ').capitalize()} ({o.legal_basis})"
    return [
        "BEGIN:VEVENT",
        f"UID:{entry.case_id}.{o.kind.value}.{o.due_date:%Y%m%d}@naervaer",
        f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"DTSTART;VALUE=DATE:{o.due_date:%Y%m%d}",
        f"DTEND;VALUE=DATE:{o.due_date + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{_text(title)}",
        f"DESCRIPTION:{_text(_description(entry))}",
        f"CATEGORIES:{entry.status.value.upper()}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def _description(entry: Entry) -> str:
    o = entry.obligation
    return (
        f"Case {entry.case_id}: {o.kind.value}, responsible {o.responsible.value}, "
        f"status {entry.status.value}, legal basis {o.legal_basis}."
    )


def _text(value: str) -> str:
    """TEXT escaping (RFC 5545 § 3.3.11); every line break, CR included, becomes ``\\n``
    (a bare CR from a manager id in the path reached the feed, found by tests/hostile)."""
    one_line = value.replace("\r\n", "\n").replace("\r", "\n")
    return (
        one_line.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (§ 3.1)."""
    raw = line.encode()
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)
