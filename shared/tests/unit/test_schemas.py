"""JSON Schemas of the events: writing, drift detection, and the committed ``schemas/`` folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import BaseModel

from naervaer.contracts import CONTRACTS
from naervaer.registry import EventRegistry
from naervaer.schemas import check_schemas, expected_files, schema_id, write_schemas

# shared/tests/unit/test_schemas.py → the repository root holds the committed schemas/.
COMMITTED = Path(__file__).resolve().parents[3] / "schemas"
VERSIONED_FILE = re.compile(r"^(?P<type>[^/]+)/v(?P<version>[1-9][0-9]*)\.json$")


class CaseOpened(BaseModel):
    """A case (sykefraværstilfelle) was opened."""

    case_id: str
    first_absence_day: str


class CaseOpenedWithGrade(BaseModel):
    """A case was opened, now with a grade: the same type, a changed model."""

    case_id: str
    first_absence_day: str
    grade: int


def registry_of(model: type[BaseModel]) -> EventRegistry:
    registry = EventRegistry()
    registry.register("case.opened", model)
    return registry


def test_written_schemas_check_clean(tmp_path: Path) -> None:
    written = write_schemas(registry_of(CaseOpened), tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == [
        "case.opened/v1.json",
        "envelope.json",
    ]
    assert check_schemas(registry_of(CaseOpened), tmp_path) == []
    assert write_schemas(registry_of(CaseOpened), tmp_path) == []  # nothing left to rewrite


def test_written_payload_schema_names_its_type_and_version(tmp_path: Path) -> None:
    write_schemas(registry_of(CaseOpened), tmp_path)
    schema = json.loads((tmp_path / "case.opened" / "v1.json").read_text())
    assert schema["$id"] == schema_id("case.opened", 1) == "urn:naervaer:schema:case.opened:v1"
    assert (schema["x-event-type"], schema["x-schema-version"]) == ("case.opened", 1)
    assert schema["required"] == ["case_id", "first_absence_day"]


def test_a_changed_model_reports_drift(tmp_path: Path) -> None:
    write_schemas(registry_of(CaseOpened), tmp_path)
    drift = check_schemas(registry_of(CaseOpenedWithGrade), tmp_path)
    assert len(drift) == 1
    assert drift[0].startswith("case.opened/v1.json: differs from the model")


def test_a_missing_schema_reports_drift(tmp_path: Path) -> None:
    write_schemas(registry_of(CaseOpened), tmp_path)
    (tmp_path / "case.opened" / "v1.json").unlink()
    assert check_schemas(registry_of(CaseOpened), tmp_path) == [
        "case.opened/v1.json: missing (run `naervaer schemas`)"
    ]


def test_committed_schemas_match_the_contracts_exactly() -> None:
    """The drift check CI runs: `naervaer schemas` leaves the committed folder unchanged."""
    assert check_schemas(CONTRACTS, COMMITTED) == []
    assert sorted(_committed_files() - set(expected_files(CONTRACTS))) == sorted(
        _older_versions_of_current_types()
    ), "schemas/ holds files no contract explains"


def _committed_files() -> set[str]:
    return {p.relative_to(COMMITTED).as_posix() for p in COMMITTED.rglob("*") if p.is_file()}


def _older_versions_of_current_types() -> list[str]:
    """Old versions may stay (consumers can still hold them), but only of registered types."""
    older = []
    for relative in _committed_files():
        match = VERSIONED_FILE.match(relative)
        if not match or match["type"] not in CONTRACTS:
            continue
        if int(match["version"]) < CONTRACTS.get(match["type"]).version:
            older.append(relative)
    return older
