"""``naervaer demo``: the story of one sick-leave case over a year, in about a minute.

The four services run in this process on the embedded default (SQLite files in a fresh data
folder, no broker). The demo moves the development clock through the year and, at each step,
makes the requests the people of the case would make (HR, the manager, the employee, NAV),
then shows what followed: the obligation timeline (frister), the reminders the notification
service really sent by SMTP to a catcher started here, and finally the verified audit trail.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from naervaer.demo.hosting import DemoError, hosted_services
from naervaer.demo.mailbox import mail_catcher
from naervaer.demo.runner import Story
from naervaer.demo.show import Show
from naervaer.demo.story import TENANT, Cast, scenes
from naervaer.observability.logging import configure_logging

__all__ = ["run_demo"]


def demo_settings(smtp_port: int) -> dict[str, str]:
    """The services' settings for the demo: quick polling, mail to the catcher."""
    return {
        "NAERVAER_LOG_LEVEL": "WARNING",
        "NAERVAER_DEADLINE_SCHEDULER_POLL_INTERVAL_S": "0.05",
        "NAERVAER_NOTIFICATION_WORKER_POLL_INTERVAL_S": "0.05",
        "NAERVAER_NOTIFICATION_SMTP_HOST": "127.0.0.1",
        "NAERVAER_NOTIFICATION_SMTP_PORT": str(smtp_port),
        "NAERVAER_NOTIFICATION_SMTP_SECURITY": "none",
        "NAERVAER_NOTIFICATION_SMTP_FROM": "Nærvær demo <noreply@fjordlogistikk.example>",
    }


async def run_demo(data_dir: Path | None = None, console: Console | None = None) -> int:
    """Tell the story; 0 when it ran to the end with a verified audit trail, else 1."""
    show = Show(console or Console(highlight=False))
    # Only problems from the services: the story is the output.
    configure_logging(level="WARNING", fmt="console")
    started = time.monotonic()
    with _data_folder(data_dir) as folder:
        try:
            mails, verified = await _tell(folder, show, kept=data_dir is not None)
        except DemoError as error:
            show.failure(str(error))
            return 1
    show.outro(mails, time.monotonic() - started, data_dir)
    return 0 if verified else 1


async def _tell(folder: Path, show: Show, *, kept: bool) -> tuple[int, bool]:
    cast = Cast.for_run(uuid.uuid4().hex[:6])
    async with mail_catcher() as mailbox:
        show.intro(folder, kept, mailbox.port)
        async with hosted_services(folder, TENANT, demo_settings(mailbox.port)) as hosted:
            story = Story(hosted, mailbox, show, cast)
            for scene in scenes(cast):
                await story.play(scene)
            show.console.print()
            show.timeline(await story.timeline())
            show.deliveries(await story.deliveries())
            verdict = await story.audit()
            show.audit(verdict)
        return len(mailbox.mails), bool(verdict["ok"])


@contextlib.contextmanager
def _data_folder(data_dir: Path | None) -> Iterator[Path]:
    """The given folder (kept), or a fresh temporary one (removed after)."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        yield data_dir.resolve()
        return
    with tempfile.TemporaryDirectory(prefix="naervaer-demo-") as folder:
        yield Path(folder)
