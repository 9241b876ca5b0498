"""``naervaer demo`` as a user runs it: a real process telling a whole case in well under 90 s."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

NAERVAER = Path(sys.executable).parent / "naervaer"
BUDGET_S = 90


def test_the_demo_tells_a_year_of_a_case_with_reminders_and_a_verified_audit_trail(
    tmp_path: Path,
) -> None:
    # Settings of the caller's own must not reach the demo: it runs on a fresh embedded default.
    elsewhere = tmp_path / "your-data-folder"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
    env |= {
        "COLUMNS": "80",  # the width of a pipe or CI log, and what the demo is made for
        "NAERVAER_DATA_DIR": str(elsewhere),
        "NAERVAER_CASE_DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nowhere",
        "NAERVAER_NOTIFICATION_SMTP_HOST": "smtp.invalid",
    }
    started = time.monotonic()
    done = subprocess.run(
        [str(NAERVAER), "demo"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BUDGET_S,
    )
    elapsed = time.monotonic() - started
    out = done.stdout

    assert done.returncode == 0, out + done.stderr
    assert elapsed < BUDGET_S
    # The timeline as it develops, up to the end of the case.
    for kind in ("employer_period_end", "follow_up_plan", "plan_to_doctor", "dialogue_meeting_1"):
        assert re.search(rf"⏱ {kind} +due \S+ +\w+ → fulfilled", out), kind
    assert re.search(r"⏱ plan_to_doctor +due \S+ +due_soon → overdue", out)
    assert re.search(r"⏱ employment_review +due \S+ +upcoming → not_required", out)
    # Reminders really sent over SMTP: the manager's, and HR's escalation of the late plan.
    assert "✉ to Kari Hansen: Reminder: follow-up plan for Ola Nordmann" in out
    assert "✉ to hr@fjordlogistikk.example: Overdue: plan shared with the doctor" in out
    caught = re.search(r"(\d+) emails reached the SMTP catcher", out)
    assert caught is not None
    assert int(caught.group(1)) == out.count("✉ to ") >= 5
    # Both parties signed, and the tenant's whole audit trail checks out.
    assert out.count("sign the") == 2
    assert re.search(r"✔ Audit trail verified: \d+ entries of fjord-logistikk", out)
    folder = re.search(r"Data: (\S+) \(removed afterwards\)", out)
    assert folder is not None
    assert not Path(folder.group(1)).exists()
    assert not elsewhere.exists()
