"""The case aggregate: decides on commands and records what happened as events.

The case's events are the public contract of the case-events topic (``naervaer.contracts``):
what the aggregate records is what integrators read. Its decisions are grouped by theme, one
module each: lifecycle, sick leave, follow-up and measures.
"""

from __future__ import annotations

from pydantic import BaseModel

from case_service.domain.follow_up import FollowUpDecisions
from case_service.domain.lifecycle import LifecycleDecisions
from case_service.domain.measures import MeasureDecisions
from case_service.domain.sick_leave import SickLeaveDecisions
from case_service.domain.state import evolve


class Case(LifecycleDecisions, SickLeaveDecisions, FollowUpDecisions, MeasureDecisions):
    """One absence (sykefraværstilfelle), from the first day of absence to return to work."""

    @classmethod
    def replay(cls, case_id: str, events: list[BaseModel], version: int) -> Case:
        case = cls(case_id)
        for event in events:
            evolve(case.state, event)
        case.version = version
        return case
