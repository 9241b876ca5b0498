"""A year of one case, end to end through the REST APIs (issues 4, 5 and 6, "done when").

The four services run in-process on the embedded default (SQLite files, the embedded transport)
with the data folder's dev clock; a real SMTP server and a real webhook receiver stand in for
the outside world. The scenario and what is checked at each step: ``year_of_a_case``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from deadline_service.adapters.scheduler import DeadlineScheduler
from naervaer.rebuilding import rebuild_service

from .platform_fixtures import platform_settings
from .year_of_a_case.checks import check_the_year
from .year_of_a_case.driver import CaseDriver, DevClockOverHttp
from .year_of_a_case.embedded import EmbeddedPlatform, FileClock
from .year_of_a_case.receivers import SmtpServer, WebhookReceiver
from .year_of_a_case.scenario import LAST_WEEK, play, play_week

pytestmark = pytest.mark.integration

START = date(2026, 1, 5)  # S, a Monday
WHILE_DOWN = 39  # the week the deadline service misses: a note is extended, week 39 is due


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def webhooks() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret="hr-suite-shared-secret-0123456789") as receiver:
        yield receiver


@pytest.fixture
async def platform(
    tmp_path: Path, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[EmbeddedPlatform]:
    """The four services on one data folder; timers and the delivery worker poll often."""
    for name, value in {
        "NAERVAER_DEADLINE_SCHEDULER_POLL_INTERVAL_S": "0.05",
        "NAERVAER_NOTIFICATION_WORKER_POLL_INTERVAL_S": "0.05",
        "NAERVAER_NOTIFICATION_SMTP_HOST": smtp.host,
        "NAERVAER_NOTIFICATION_SMTP_PORT": str(smtp.port),
        "NAERVAER_NOTIFICATION_SMTP_SECURITY": "none",
        "NAERVAER_NOTIFICATION_SMTP_TIMEOUT_S": "5",
    }.items():
        monkeypatch.setenv(name, value)
    async with EmbeddedPlatform(platform_settings(tmp_path / "data")) as hosted:
        yield hosted


def driver_for(
    platform: EmbeddedPlatform, smtp: SmtpServer, webhooks: WebhookReceiver
) -> CaseDriver:
    return CaseDriver(
        platform.endpoints,
        platform.token,
        start=START,
        smtp=smtp,
        webhooks=webhooks,
        deadline_log=platform.deadline_log,
    )


async def test_a_year_of_one_case_through_the_rest_apis(
    platform: EmbeddedPlatform, smtp: SmtpServer, webhooks: WebhookReceiver, tmp_path: Path
) -> None:
    driver = driver_for(platform, smtp, webhooks)
    await play(driver, range(LAST_WEEK + 1))
    counts = await check_the_year(driver, tmp_path)
    assert counts["messages"] == len(smtp.emails) + len(webhooks.received)

    # Rebuilt from the case store, the projection gives the same timeline and re-arms nothing.
    timeline, fired = await driver.timeline(), await platform.deadline_log.reminders()
    await platform.stop("deadline")
    applied = await rebuild_service(platform.settings, "deadline")
    assert applied["deadline-service.timeline"] > 0
    await platform.start("deadline")
    assert await driver.timeline() == timeline
    scheduler = platform.runtimes["deadline"].wiring.state["scheduler"]
    assert isinstance(scheduler, DeadlineScheduler)
    assert await scheduler.pending() == 0
    assert await platform.deadline_log.reminders() == fired
    await check_the_year(driver, tmp_path)


async def test_restarting_the_deadline_service_mid_case_loses_and_repeats_nothing(
    platform: EmbeddedPlatform, smtp: SmtpServer, webhooks: WebhookReceiver, tmp_path: Path
) -> None:
    driver = driver_for(platform, smtp, webhooks)
    await play(driver, range(3))

    async def restart() -> None:
        await platform.restart("deadline")

    # Restarted right after the clock reached week 3, with timers due (maybe mid-tick).
    await play_week(driver, 3, before_settling=restart)
    await play(driver, range(4, WHILE_DOWN))

    # Down for a week: the clock moves on and the case changes without it.
    await platform.stop("deadline")
    driver.clock = FileClock(platform.settings)
    await play_week(driver, WHILE_DOWN, settle=False)
    await platform.start("deadline")
    driver.clock = DevClockOverHttp(platform.endpoints)
    await driver.settle()

    await play(driver, range(WHILE_DOWN + 1, LAST_WEEK + 1))
    await check_the_year(driver, tmp_path)
