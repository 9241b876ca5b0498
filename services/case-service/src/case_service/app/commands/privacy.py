"""Commands on retention and legal hold (oppbevaring, rettslig hold)."""

from __future__ import annotations

from pydantic import Field

from case_service.app.commands.base import Command, text_field


class SetRetentionPolicy(Command):
    """How long the employer keeps follow-up data after an employee's last case closed."""

    months_after_close: int = Field(
        ge=0,
        le=600,
        description="Months after the employee's last case closed before their personal data "
        "is erased (unless a legal hold stops it). 0: erasable as soon as every case is closed.",
    )


class PlaceLegalHold(Command):
    """A legal hold (rettslig hold) stops erasure of the employee's data, e.g. in a dispute."""

    reason: str = text_field("Why the data must be kept (e.g. the dispute).", max_length=1000)
