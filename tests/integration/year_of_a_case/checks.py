"""What must hold once the year is over: every reminder exactly once (deadline log, delivery log,
SMTP server, webhook receiver), the signed documents, an intact audit trail, and a dossier that
``naervaer verify`` accepts offline."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .bodies import email_of
from .driver import CaseDriver
from .expectations import FULFILLED, Delivery

NAERVAER_CLI = (str(Path(sys.executable).parent / "naervaer"),)
FULFILLED_BY = {  # the case event that fulfils each duty, as the timeline names it
    "follow_up_plan": "case.follow_up_plan_created",
    "plan_to_doctor": "case.follow_up_plan_shared",
    "dialogue_meeting_1": "case.dialogue_meeting_held",
    "activity_requirement": "case.activity_requirement_assessed",
    "revised_plan_to_nav": "case.follow_up_plan_shared",
    "dialogue_meeting_2": "case.dialogue_meeting_held",
    "aap_application": "case.aap_application_recorded",
    "employment_review": "case.employment_review_decided",
}


async def check_the_year(
    d: CaseDriver, workdir: Path, *, cli: Sequence[str] = NAERVAER_CLI
) -> dict[str, int]:
    """Every final check; returns a few counts for the test's report."""
    case = await d.api.get("case", f"/v1/cases/{d.case_id}", by=d.cast.hr)
    assert case["status"] == "closed", case
    history = await d.api.get("case", f"/v1/cases/{d.case_id}/events", by=d.cast.hr)
    events = history["events"]
    await check_fulfilled_by(d, events)
    reminders = await check_reminders_once(d)
    log = await check_delivery_log(d, events)
    check_received_once(d, log)
    await check_documents(d)
    await check_audit_trail(d, workdir, cli)
    return {"case events": len(events), "deadline events": reminders, "messages": len(log)}


async def check_fulfilled_by(d: CaseDriver, events: list[dict[str, Any]]) -> None:
    """Each duty names the event that fulfilled it, of the kind that fulfils it."""
    types = {event["id"]: event["type"] for event in events}
    timeline = await d.timeline()
    for obligation in timeline["obligations"]:
        wanted = FULFILLED_BY.get(obligation["kind"])
        if wanted is not None and obligation["status"] == FULFILLED:
            assert types.get(obligation["fulfilled_by"]) == wanted, obligation


async def check_reminders_once(d: CaseDriver) -> int:
    """One deadline event per stage per obligation (and due date) over the whole year."""
    found = await d.deadline_log.reminders()
    repeated = {reminder: n for reminder, n in found.items() if n != 1}
    assert not repeated, f"deadline events emitted more than once: {repeated}"
    assert set(found) == d.expect.fired
    return sum(found.values())


async def check_delivery_log(d: CaseDriver, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The notification service's log shows exactly the expected messages, each sent once."""
    answer = await d.api.get("notification", f"/v1/cases/{d.case_id}/deliveries", by=d.cast.hr)
    log: list[dict[str, Any]] = answer["deliveries"]
    meetings = {
        e["id"]: e["data"]["meeting_id"]
        for e in events
        if e["type"] == "case.dialogue_meeting_scheduled"
    }
    found = Counter(_as_expected(entry, meetings) for entry in log)
    wanted = d.expect.deliveries
    assert found == wanted, f"missing {wanted - found}, unexpected {found - wanted}"
    for entry in log:
        outcomes = [attempt["outcome"] for attempt in entry["attempt_log"]]
        assert (entry["status"], outcomes) == ("sent", ["sent"]), entry
    return log


def _as_expected(entry: Mapping[str, Any], meetings: Mapping[str, str]) -> Delivery:
    """A logged delivery in the model's words (``obligation:kind:due`` or ``meeting:id``)."""
    source, _, rest = entry["subject_key"].partition(":")
    if source == "obligation":
        _case_id, kind, due = rest.split(":")
        about = f"obligation:{kind}:{due}"
    else:
        about = f"meeting:{meetings[rest]}"
    return Delivery(
        about,
        entry["stage"],
        entry["audience"],
        entry["recipient_id"],
        entry["channel"],
        entry["template"],
    )


def check_received_once(d: CaseDriver, log: list[dict[str, Any]]) -> None:
    """The SMTP server and the webhook receiver got each sent delivery exactly once."""
    by_id = {entry["id"]: entry for entry in log}
    emails = Counter(email.delivery_id for email in d.smtp.emails)
    hooks = Counter(hook.delivery_id for hook in d.webhooks.received)
    assert set(emails.values()) | set(hooks.values()) == {1}, "a message arrived twice"
    assert set(emails) == {i for i, e in by_id.items() if e["channel"] == "email"}
    assert set(hooks) == {i for i, e in by_id.items() if e["channel"] == "webhook"}
    for email in d.smtp.emails:
        entry = by_id[email.delivery_id]
        assert email.delivery_id in email.message_id
        assert email_of(d, entry["audience"]) in email.to
    for hook in d.webhooks.received:
        entry = by_id[hook.delivery_id]
        assert hook.signature_valid, hook
        shown = {k: hook.body[k] for k in ("recipient_id", "stage", "template", "case_id")}
        assert shown == {k: entry[k] for k in shown}


async def check_documents(d: CaseDriver) -> None:
    """Both plan versions and both meetings' minutes signed by employee and manager."""
    documents = await d.api.get("document", f"/v1/cases/{d.case_id}/documents", by=d.cast.hr)
    kinds = Counter(document["kind"] for document in documents)
    assert kinds == {"follow_up_plan": 1, "dialogue_meeting_minutes": 2, "adjustment_record": 1}
    signers = {"employee": d.cast.employee.subject, "manager": d.cast.manager.subject}
    for document in documents:
        versions = [v["version"] for v in document["versions"]]
        assert versions == ([1, 2] if document["kind"] != "dialogue_meeting_minutes" else [1])
        if document["kind"] == "adjustment_record":
            continue  # recorded, then evaluated; the scenario does not sign them
        for version in document["versions"]:
            assert version["missing"] == [], (document["title"], version)
            signed = {x["role"]: x["signer_id"] for x in version["decisions"]}
            assert signed == signers
            assert {x["document_hash"] for x in version["decisions"]} == {version["document_hash"]}


async def check_audit_trail(d: CaseDriver, workdir: Path, cli: Sequence[str]) -> None:
    """The tenant's chain verifies, and the exported dossier passes ``naervaer verify``."""
    verdict = await d.api.get("document", "/v1/audit/verify", by=d.cast.hr)
    assert verdict["ok"], verdict
    assert verdict["problems"] == []
    assert verdict["entries_checked"] > 0
    dossier = await d.api.call("document", "GET", f"/v1/cases/{d.case_id}/dossier", by=d.cast.hr)
    assert dossier.headers["content-type"] == "application/zip"
    keys = await d.endpoints.document.get("/v1/audit/keys")
    assert keys.status_code == 200, keys.text
    archive, trusted = workdir / f"dossier-{d.case_id}.zip", workdir / "audit-keys.json"
    archive.write_bytes(dossier.content)
    trusted.write_bytes(keys.content)
    code, output = await _run(*cli, "verify", str(archive), "--public-key", str(trusted))
    assert code == 0, output
    assert output.startswith(f"OK: the dossier of case {d.case_id} is intact"), output


async def _run(*command: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAERVAER_")}
    process = await asyncio.create_subprocess_exec(
        *command,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()
