"""Diagnosis data is found at any depth, by field name or by a code in free text."""

from __future__ import annotations

import pytest

import naervaer.privacy.diagnosis as diagnosis
from naervaer.privacy import DiagnosisFinding, find_diagnosis


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"diagnosis": "back pain"}, "/diagnosis"),
        ({"diagnose": "x"}, "/diagnose"),
        ({"diagnosekode": "x"}, "/diagnosekode"),
        ({"hoveddiagnose": "x"}, "/hoveddiagnose"),
        ({"bidiagnose": ["x"]}, "/bidiagnose"),
        ({"hovedDiagnose": "x"}, "/hovedDiagnose"),
        ({"icd10": "x"}, "/icd10"),
        ({"ICD-10": "x"}, "/ICD-10"),
        ({"icpc2": "x"}, "/icpc2"),
        ({"icpc_2_code": "x"}, "/icpc_2_code"),
        ({"main_diagnosis_code": None}, "/main_diagnosis_code"),
        ({"plan": {"details": [{"ok": 1}, {"diagnosis": 1}]}}, "/plan/details/1/diagnosis"),
        ({"a/b": {"di~agnosis": 1, "diagnosis": 1}}, "/a~1b/diagnosis"),
    ],
)
def test_a_field_named_after_a_diagnosis_is_found(body: object, pointer: str) -> None:
    assert find_diagnosis(body) == DiagnosisFinding(pointer, "diagnosis_field")


@pytest.mark.parametrize(
    ("body", "pointer", "system"),
    [
        ({"notes": "Sykmeldt for L87 siden mandag"}, "/notes", "ICPC-2/ICD-10"),
        ({"notes": "F32.1"}, "/notes", "ICD-10"),
        ({"notes": "pain M54, back"}, "/notes", "ICD-10"),  # M: ICD-10 only
        ({"notes": "code (R05)."}, "/notes", "ICPC-2/ICD-10"),
        ({"notes": "C50.91 confirmed"}, "/notes", "ICD-10"),
        ({"notes": "G43 migraine"}, "/notes", "ICD-10"),  # G is ICD-10 only, not ICPC-2
        ({"minutes": ["fine", "P76"]}, "/minutes/1", "ICPC-2/ICD-10"),
        ({"plan": {"typical_workday": "Desk work; P76"}}, "/plan/typical_workday", "ICPC-2/ICD-10"),
        ({"working_day": "hard since F32.1"}, "/working_day", "ICD-10"),
        ({"held_on": "L87"}, "/held_on", "ICPC-2/ICD-10"),
        ({"code": "K86"}, "/code", "ICPC-2/ICD-10"),
        (["free text L87"], "/0", "ICPC-2/ICD-10"),
    ],
)
def test_a_code_in_free_text_is_found(body: object, pointer: str, system: str) -> None:
    assert find_diagnosis(body) == DiagnosisFinding(pointer, "diagnosis_code", system)


@pytest.mark.parametrize(
    "body",
    [
        {"sick_note_id": "note-A12", "meeting_id": "L87", "party_id": "doc-F32"},
        {"employee_id": "K86", "ids": ["L87"], "org_unit": "K12", "uuid": "X99"},
        {"period_start": "2026-01-05", "held_on": "2026-01-05", "starts_at": "2026-01-05T09:00"},
        {"evaluation_date": "2026-03-01", "effective_from": "2026-01-05"},
        {"notes": "met at 2026-01-05T09:00:00+01:00"},
        {"notes": "vitamin b12, l87 in lower case, AB12, A1, A123, 12A34, L8"},
        {"notes": "Works 50 % from 2026-02-01; lighter tasks in warehouse north"},
        {"grade": 50, "approved": True, "amount_nok": 20000, "notes": None},
        {"periodicData": "fine"},
    ],
)
def test_ids_dates_and_ordinary_text_pass(body: object) -> None:
    assert find_diagnosis(body) is None


def test_explanation_names_the_field_and_the_rule_but_not_the_value() -> None:
    finding = find_diagnosis({"notes": "has L87"})
    assert finding is not None
    assert "/notes" in finding.explanation
    assert "function" in finding.explanation
    assert "L87" not in finding.explanation


def test_a_long_field_name_is_read_as_a_short_one_and_not_kept() -> None:
    long_name = "x" * 80 + "_diagnosis"
    kept_before = diagnosis._kept_reading.cache_info().currsize

    assert find_diagnosis({long_name: "x"}) == DiagnosisFinding(f"/{long_name}", "diagnosis_field")
    assert find_diagnosis({"y" * 80 + "_notes": "L87"}) == DiagnosisFinding(
        "/" + "y" * 80 + "_notes", "diagnosis_code", "ICPC-2/ICD-10"
    )
    assert find_diagnosis({"z" * 80 + "_id": "L87"}) is None
    assert diagnosis._kept_reading.cache_info().currsize == kept_before


def test_a_kept_field_name_reads_the_same_every_time() -> None:
    for _ in range(3):
        assert find_diagnosis({"notes": "L87", "note_id": "L87"}) == DiagnosisFinding(
            "/notes", "diagnosis_code", "ICPC-2/ICD-10"
        )
        assert find_diagnosis({"note_id": "L87"}) is None
