"""Policy values (where the law is vague), configurable per tenant; RULES.md gives the defaults."""

from __future__ import annotations

from dataclasses import dataclass, field

EMPLOYER_PARTIES = frozenset({"manager", "hr"})


@dataclass(frozen=True)
class Policy:
    """A tenant's choices. Changing one changes due dates: rebuild the projection after."""

    plan_to_doctor_days: int = 7
    """The plan goes to the doctor this many days after it is made (law: "as soon as made")."""
    meeting_1_request_days: int = 14
    """Graded-only cases: meeting 1 is due this long after a party asks (or at 7 weeks)."""
    meeting_1_requesters: frozenset[str] = field(
        default_factory=lambda: EMPLOYER_PARTIES | {"employee", "doctor"}
    )
    """Who may ask for meeting 1 on graded leave: employer, employee or doctor."""
    meeting_3_days: int = 21
    """Meeting 3 is due this many days after it is requested."""
    aap_months: int = 10
    """Apply for work assessment allowance (AAP) this many months after S."""
    reminder_lead_days: int = 7
    """deadline.approaching fires, and due_soon starts, this many days before the due date."""


DEFAULT_POLICY = Policy()
