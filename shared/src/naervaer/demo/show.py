"""How the demo prints its story with rich: scenes, actions, emails, the timeline, the audit.

Everything fits 80 columns, so it reads the same in a terminal, a CI log or a pipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from naervaer.demo.mailbox import CaughtMail

Obligation = Mapping[str, Any]
STATUS_STYLE = {
    "upcoming": "white",
    "due_soon": "yellow",
    "overdue": "bold red",
    "fulfilled": "green",
    "not_required": "dim",
    "waived": "dim",
}


class Show:
    """The demo's narrator: one method per kind of thing the story tells."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bodies_shown = 0

    def intro(self, data_dir: Path, kept: bool, smtp_port: int) -> None:
        where = str(data_dir) if kept else f"{data_dir} (removed afterwards)"
        self.console.print(
            Panel.fit(
                "[bold]Nærvær demo[/bold]: one sick-leave case (sykefraværstilfelle) over a "
                "year,\ntold through the four services' REST APIs on the embedded default.\n"
                f"Data: {where}\nMail: an SMTP catcher on 127.0.0.1:{smtp_port}",
                border_style="cyan",
            )
        )

    def scene(self, title: str, moment: datetime, note: str) -> None:
        self.console.print()
        self.console.rule(f"[bold cyan]{moment:%a %d %b %Y}[/] · {title}", align="left")
        if note:
            self.console.print(Padding(Text(note, style="italic"), (0, 0, 0, 2)))

    def action(self, who: str, says: str, outcome: str) -> None:
        """Who did what, and under it (dim) the request that did it."""
        line = Text(who, style="bold")
        line.append(f" {says}\n")
        line.append(outcome, style="dim")
        self.console.print(Padding(line, (0, 0, 0, 2)))

    def mails(self, mails: Sequence[CaughtMail]) -> None:
        for mail in mails:
            line = Text(f"✉ to {mail.to}: ", style="magenta")
            line.append(mail.subject, style="default")
            self.console.print(Padding(line, (0, 0, 0, 2)))
            if self._bodies_shown < 1:  # one whole email, so the reader sees what arrives
                self._bodies_shown += 1
                text = f"Subject: {mail.subject}\n\n{mail.text.strip()}"
                body = Panel(text, title=f"the email to {mail.to}", border_style="magenta")
                self.console.print(Padding(body, (0, 2)))

    def timeline_changes(self, before: Sequence[Obligation], after: Sequence[Obligation]) -> None:
        """One line per obligation that appeared or changed status or due date."""
        known = {o["kind"]: o for o in before}
        for obligation in after:
            old = known.get(obligation["kind"])
            if old is not None and _same(old, obligation):
                continue
            line = Text(f"⏱ {obligation['kind']:<21} due {obligation['due_date'] or '—':<10}  ")
            if old is not None and old["status"] != obligation["status"]:
                line.append_text(_status(old["status"]))
                line.append(" → ")
            line.append_text(_status(obligation["status"]))
            self.console.print(Padding(line, (0, 0, 0, 2)))

    def timeline(self, obligations: Sequence[Obligation]) -> None:
        table = Table(title="The case's timeline (frister)", title_justify="left")
        for column in ("obligation", "due", "status", "responsible"):
            table.add_column(column)
        for o in obligations:
            table.add_row(o["kind"], o["due_date"] or "—", _status(o["status"]), o["responsible"])
        self.console.print(table)

    def deliveries(self, deliveries: Sequence[Mapping[str, Any]]) -> None:
        table = Table(title="Every message about the case", title_justify="left")
        for column in ("sent", "to", "message", "channel", "status"):
            table.add_column(column)
        for d in sorted(deliveries, key=lambda d: d["created_at"]):
            sent = (d["sent_at"] or "")[:10]
            table.add_row(sent, d["audience"], d["template"], d["channel"], d["status"])
        self.console.print(table)

    def audit(self, verdict: Mapping[str, Any]) -> None:
        if verdict["ok"]:
            self.console.print(
                f"[bold green]✔ Audit trail verified[/]: {verdict['entries_checked']} entries of "
                f"{verdict['tenant']}, hash chain intact, every Ed25519 signature valid."
            )
            return
        self.console.print(f"[bold red]✘ Audit trail NOT verified[/] ({verdict['tenant']}):")
        for problem in verdict["problems"]:
            self.console.print(f"  entry {problem['sequence']}: {problem['problem']}")

    def outro(self, mails: int, seconds: float, data_dir: Path | None) -> None:
        self.console.print(
            f"\n{mails} emails reached the SMTP catcher. The story of a case took {seconds:.0f} s."
        )
        if data_dir is not None:
            self.console.print(
                f"Explore it: [bold]uv run naervaer up --data-dir {data_dir}[/]. Its clock "
                f"stays in the story: `naervaer clock reset --data-dir {data_dir}` goes back."
            )

    def failure(self, message: str) -> None:
        self.console.print(f"[bold red]The demo stopped:[/] {message}")


def _status(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, "default"))


def _same(old: Obligation, new: Obligation) -> bool:
    return bool(old["status"] == new["status"] and old["due_date"] == new["due_date"])
