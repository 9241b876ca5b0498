"""Header injection made impossible: no CR or LF ever reaches a mail header.

A subject, a display name or an address with a line break could smuggle extra headers (Bcc:)
into an email. Templates and addresses with one are refused when stored; what is rendered
from them is stripped again before it becomes a header, as a second line of defence.
"""

from __future__ import annotations

import re

LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")
EMAIL_PATTERN = r"^[^@\s<>,;:\"\\]+@[^@\s<>,;:\"\\]+\.[^@\s<>,;:\"\\]+$"
PHONE_PATTERN = r"^\+[1-9][0-9]{6,14}$"
"""E.164, e.g. +4791234567."""


def has_line_break(value: str) -> bool:
    """True when ``value`` holds a character that would end a header line."""
    return LINE_BREAKS.search(value) is not None


def header_safe(value: str, *, max_length: int = 200) -> str:
    """``value`` on one line (breaks become spaces), trimmed to ``max_length`` characters."""
    one_line = " ".join(LINE_BREAKS.sub(" ", value).split())
    return one_line[:max_length]
