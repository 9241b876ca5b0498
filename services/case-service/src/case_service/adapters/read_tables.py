"""Tables of the case service's read side: the case summary projection (saksoversikt).

Defined on the service's one ``MetaData`` by ``read_tables(metadata)`` (called from
``adapters/tables.py``), so the migrations see them. Every column a listing filters on is a
real column; the rest of the fold state travels as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import JSON, Column, Date, Index, Integer, MetaData, String, Table
from sqlalchemy.dialects.postgresql import JSONB

from naervaer.eventstore import UtcDateTime

_JSON = JSON().with_variant(JSONB(), "postgresql")


@dataclass(frozen=True)
class ReadTables:
    case_summaries: Table


def read_tables(metadata: MetaData) -> ReadTables:
    """Define (or return the already defined) read-side tables on ``metadata``."""
    if "case_summaries" in metadata.tables:
        return ReadTables(metadata.tables["case_summaries"])
    return ReadTables(_case_summaries(metadata))


def _case_summaries(metadata: MetaData) -> Table:
    table = Table(
        "case_summaries",
        metadata,
        Column("case_id", String(64), primary_key=True),
        Column("tenant", String(128), nullable=False),
        Column("employee_id", String(128), nullable=False),
        Column("manager_id", String(128), nullable=False, doc="The current nearest manager"),
        Column("org_unit", String(128), nullable=False),
        Column("status", String(16), nullable=False),
        Column("began_with", String(32), nullable=False),
        Column("case_start", Date, nullable=False, doc="S: the first day of the case"),
        Column("closed_on", Date, nullable=True),
        Column("last_absence_day", Date, nullable=True, doc="The latest known day of absence"),
        Column("current_grade", Integer, nullable=True, doc="Grade on the latest known day"),
        Column("days_absent", Integer, nullable=False, doc="Calendar days, overlaps once"),
        Column("employer_period_end", Date, nullable=False),
        Column("plan_version", Integer, nullable=False),
        Column("meetings_held", Integer, nullable=False),
        Column("absence", _JSON, nullable=False, doc="Absence segments (statistics read these)"),
        Column("state", _JSON, nullable=False, doc="The fold state (SummaryState)"),
        Column("version", Integer, nullable=False, doc="Case stream version last applied"),
        Column("updated_at", UtcDateTime, nullable=False, doc="Time of that event"),
        # Every event rewrites its case's row: room on the page lets PostgreSQL update it in
        # place, leaving the indexes alone (migration case0003; issue 8, sixteenth round).
        postgresql_with={"fillfactor": 70},
    )
    # The listing pages newest first within a tenant, filtered by manager, unit or employee.
    Index("ix_case_summaries_tenant_start", table.c.tenant, table.c.case_start, table.c.case_id)
    Index("ix_case_summaries_tenant_manager", table.c.tenant, table.c.manager_id)
    Index("ix_case_summaries_tenant_employee", table.c.tenant, table.c.employee_id)
    Index("ix_case_summaries_tenant_unit", table.c.tenant, table.c.org_unit, table.c.case_start)
    return table
