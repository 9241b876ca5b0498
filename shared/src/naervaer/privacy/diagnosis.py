"""Finds diagnosis data in a request body: the employer must not store diagnoses.

Sick-leave follow-up is about function, not diagnosis (funksjon, ikke diagnose): the employer
may learn what the employee can and cannot do, never why. ``find_diagnosis`` walks a parsed JSON
document (any depth) and returns the first place that carries a diagnosis, as a JSON pointer.

The heuristic, and why:

- **Field names.** A key whose name denotes a diagnosis is refused whatever its value: any word
  containing ``diagnos`` (diagnosis, diagnose, diagnosekode, hoveddiagnose, bidiagnose …) or the
  code systems ``icd``/``icd10``/``icpc``/``icpc2``. Keys are split into words at ``_``, ``-``,
  spaces and camelCase humps, so ``periodicData`` is not read as ``icd``.
- **Codes in free text.** A string value is refused when it holds a standalone token shaped like
  an ICD-10 code (a capital letter, two digits, optionally ``.`` and one or two digits: ``M54``,
  ``F32.1``) or an ICPC-2 code (one of A B D F H K L N P R S T U W X Y Z and two digits:
  ``L87``). Standalone means no letter or digit touches it, so ``T09`` inside the timestamp
  ``2026-01-05T09:00`` or ``ab12c`` is not a code; lower case (``b12``) is not either.
- **Only free-text fields.** Identifiers are not free text: values of fields whose last word is
  an id word (``id``, ``ids``, ``uuid``, ``ref``, ``key``, ``unit``) are not scanned, so an id
  such as ``note-A12`` never trips the check. Dates and timestamps need no exemption: they hold
  no capital letter but the ``T`` of a timestamp, and that touches digits. Field names that
  merely end in a date word are no guide (``working_day`` is free text), so none is exempted.
  Length does not exempt a value either: ``"F32"`` alone in a notes field is as much a
  diagnosis as inside a sentence.

Known trade-off: a room or road name that looks like a code (``room B12``, ``E18``) in free text
is refused too; the caller rephrases (``room B-12``). Refusing one harmless text is cheaper than
storing one diagnosis.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Literal

ICPC2_LETTERS = frozenset("ABDFHKLNPRSTUWXYZ")
_CODE = re.compile(r"(?<![A-Za-z0-9])([A-Z])\d{2}(\.\d{1,2})?(?![A-Za-z0-9])")
_CODE_SYSTEM_WORD = re.compile(r"^(icd|icpc)\d*$")
_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ID_WORDS = frozenset({"id", "ids", "uuid", "ref", "key", "unit"})
# Keys up to this length have their reading kept (an API's field names come again with every
# body); longer ones, which no API field is, are read afresh and hold no memory.
_KEPT_KEY_LENGTH = 64


@dataclass(frozen=True)
class DiagnosisFinding:
    """Where a body carries a diagnosis (never the value itself: it is health data)."""

    pointer: str  # RFC 6901 JSON pointer into the body, e.g. "/plan/typical_workday"
    reason: Literal["diagnosis_field", "diagnosis_code"]
    code_system: str | None = None  # "ICD-10" or "ICPC-2/ICD-10" for a code in text

    @property
    def explanation(self) -> str:
        what = (
            "names a diagnosis"
            if self.reason == "diagnosis_field"
            else f"contains what looks like a diagnosis code ({self.code_system})"
        )
        return (
            f"The field {self.pointer or '/'} {what}. The employer must not ask for or store "
            "diagnoses: describe function (what the employee can and cannot do), not diagnosis."
        )


def find_diagnosis(document: object) -> DiagnosisFinding | None:
    """The first place in ``document`` (parsed JSON) that carries a diagnosis, or None."""
    return _walk(document, "", free_text=True)


def _walk(value: object, pointer: str, *, free_text: bool) -> DiagnosisFinding | None:
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            segment, names_diagnosis, item_free_text = (
                _kept_reading(name) if len(name) <= _KEPT_KEY_LENGTH else _reading(name)
            )
            child = f"{pointer}/{segment}"
            if names_diagnosis:
                return DiagnosisFinding(child, "diagnosis_field")
            found = _walk(item, child, free_text=item_free_text)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _walk(item, f"{pointer}/{index}", free_text=free_text)
            if found:
                return found
    elif isinstance(value, str) and free_text:
        return _code_in(value, pointer)
    return None


def _code_in(text: str, pointer: str) -> DiagnosisFinding | None:
    match = _CODE.search(text)
    if match is None:
        return None
    icpc_shaped = match.group(1) in ICPC2_LETTERS and match.group(2) is None
    return DiagnosisFinding(pointer, "diagnosis_code", "ICPC-2/ICD-10" if icpc_shaped else "ICD-10")


def _reading(key: str) -> tuple[str, bool, bool]:
    """``key`` as a JSON pointer segment, whether it names a diagnosis, and whether its value
    is free text."""
    words = _words(key)
    return _escape(key), _names_diagnosis(words), _is_free_text(words)


_kept_reading = functools.lru_cache(maxsize=1024)(_reading)


def _words(key: str) -> list[str]:
    return [word for word in _NON_WORD.split(_HUMP.sub("_", key).lower()) if word]


def _names_diagnosis(words: list[str]) -> bool:
    return any("diagnos" in word or _CODE_SYSTEM_WORD.match(word) for word in words)


def _is_free_text(words: list[str]) -> bool:
    return not words or words[-1] not in _ID_WORDS


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
