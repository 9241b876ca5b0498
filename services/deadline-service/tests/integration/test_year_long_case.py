"""A 52-week case end to end in the embedded platform: contract events appended to the case
log, the clock moved week by week through the dev endpoint, the deadline runtime restarted
twice. Each stage of each obligation must reach the deadline-events log exactly once.

The case service's REST routes are not used (being rewritten); a stand-in spec gives the
runtime the case log to read, as the embedded transport does with the real one.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic_settings import SettingsConfigDict
from sqlalchemy import MetaData, select

from deadline_service.adapters.tables import cases
from deadline_service.bootstrap import SERVICE
from naervaer.auth.devkeys import mint_token
from naervaer.contracts import CONTRACTS
from naervaer.db import create_engine
from naervaer.eventstore import EventStore, NewEvent, event_store_tables
from naervaer.migrations import target_for, upgrade
from naervaer.runtime import ServiceRuntime
from naervaer.service import ServiceSpec, Wiring
from naervaer.settings import PlatformSettings, ServiceSettings
from naervaer.topics import ACCESS_STREAM_TYPE

from ..builders import CaseScript

pytestmark = pytest.mark.integration
S = date(2018, 1, 1)
OSLO = ZoneInfo("Europe/Oslo")


class CaseStandInSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NAERVAER_CASE_", extra="ignore")


_case_metadata = MetaData()
CASE_STAND_IN = ServiceSpec(
    name="case-service",
    key="case",
    title="case log stand-in",
    description="",
    default_port=8001,
    settings_cls=CaseStandInSettings,
    metadata=_case_metadata,
    migrations_dir=Path("."),
    wire=lambda _context: Wiring(),
    event_store=event_store_tables(_case_metadata),
    publishes=("case-events",),
)


def week_script() -> dict[int, Callable[[CaseScript], object]]:
    """What happens to the case, by week (the Monday S + 7·week)."""
    return {
        0: lambda c: c.note("2018-01-01", "2018-03-31", note_id="n1"),
        3: lambda c: c.plan("2018-01-22"),
        5: lambda c: c.share(1, "doctor", "2018-02-05"),
        7: lambda c: c.assess("2018-02-19", "met"),
        8: lambda c: c.hold_meeting(1, "2018-02-26"),
        12: lambda c: c.extend("n1", "2019-06-30"),
        24: lambda c: c.meeting_exception("2018-06-18"),
        30: lambda c: c.request_meeting(3, "nav", "2018-07-30"),
        32: lambda c: c.hold_meeting(3, "2018-08-13"),
        44: lambda c: c.aap("2018-11-05"),
        53: lambda c: c.review("2019-01-07"),
    }


A, D, LATE = "approaching", "due", "overdue"
EXPECTED_STAGES = {
    "employer_period_end": {A, D},  # a milestone is never overdue
    "follow_up_plan": {A},  # made on the day after the reminder
    "plan_to_doctor": {A, D, LATE},  # shared a week late
    "dialogue_meeting_1": {A, D, LATE},  # held a week late
    "activity_requirement": {A},
    "meeting_need_query": {A, D},
    "revised_plan_to_nav": {A},  # then NAV's exception made meeting 2 unnecessary
    "dialogue_meeting_2": set(),
    "dialogue_meeting_3": {A},
    "week_39_notice": {A, D},
    "aap_application": {A, D, LATE},
    "max_date": {A, D},
    "employment_review": {A, D, LATE},
}


class Hosted:
    """The deadline runtime in-process, restartable, and the case log beside it."""

    def __init__(self, platform: PlatformSettings) -> None:
        self.platform = platform
        self.stack = AsyncExitStack()
        self.runtime: ServiceRuntime
        self.client: httpx.AsyncClient
        self.case_engine = create_engine(target_for(CASE_STAND_IN, platform))
        assert CASE_STAND_IN.event_store is not None
        self.case_store = EventStore(
            self.case_engine, CASE_STAND_IN.event_store, source="/case-service", outbox_topic=None
        )

    async def start(self) -> None:
        specs = {"case": CASE_STAND_IN, "deadline": SERVICE}
        self.runtime = ServiceRuntime(SERVICE, self.platform, specs)
        app = self.runtime.app
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app)
        self.client = await self.stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://deadline.test")
        )

    async def stop(self) -> None:
        await self.stack.aclose()
        self.stack = AsyncExitStack()

    async def append(self, case: CaseScript, payload: Any) -> None:
        name = CONTRACTS.type_of(payload).name
        await self.case_store.append(
            case.case_id, [NewEvent(name, payload)], tenant="acme", expected_version=None
        )

    async def move_clock(self, day: date) -> None:
        moment = datetime.combine(day, datetime.min.time(), OSLO).replace(hour=9)
        response = await self.client.put("/v1/dev/clock", json={"now": moment.isoformat()})
        assert response.status_code == 200, response.text

    async def settled(self, case_id: str) -> None:
        """The projection has every case event and no timer due today is left unfired."""
        head = await self.case_store.stream_version(case_id)
        scheduler = self.runtime.wiring.state["scheduler"]

        async def caught_up() -> bool:
            async with self.runtime.engine.connect() as conn:
                version = (
                    await conn.execute(select(cases.c.version).where(cases.c.case_id == case_id))
                ).scalar()
            return version == head and await scheduler.pending() == 0  # type: ignore[attr-defined]

        await eventually(caught_up)

    async def deadline_events(self) -> Counter[tuple[str, str, str]]:
        assert self.runtime.store is not None
        found: Counter[tuple[str, str, str]] = Counter()
        # Only the deadline streams: the store also keeps this service's access records.
        for envelope in await self.runtime.store.read_all(
            0, 10_000, exclude_stream_types=(ACCESS_STREAM_TYPE,)
        ):
            data = envelope.data
            found[(data["kind"], data["stage"], data["due_date"])] += 1
        return found


async def eventually(probe: Callable[[], Awaitable[bool]], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await probe():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def hosted(tmp_path: Path) -> AsyncIterator[Hosted]:
    platform = PlatformSettings(data_dir=tmp_path, consumer_poll_interval_s=0.02)
    await upgrade(SERVICE, target_for(SERVICE, platform))
    host = Hosted(platform)
    async with host.case_engine.begin() as conn:
        await conn.run_sync(_case_metadata.create_all)
    await host.start()
    try:
        yield host
    finally:
        await host.stop()
        await host.case_engine.dispose()


async def test_a_year_long_case_week_by_week(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAERVAER_DEADLINE_SCHEDULER_POLL_INTERVAL_S", "0.05")
    case = CaseScript("2018-01-01", case_id="case-2018")
    script = week_script()
    async with hosted(tmp_path) as host:
        for week in range(54):
            await host.move_clock(S + timedelta(weeks=week))
            if week == 0:
                await host.append(case, case.events[0].payload)
            if week in script:
                script[week](case)
                await host.append(case, case.events[-1].payload)
            await host.settled(case.case_id)
            if week == 26:  # timers survive a restart of the deadline runtime
                await host.stop()
                await host.start()

        events = await host.deadline_events()
        assert set(events.values()) == {1}, "a stage was emitted twice"
        stages = {kind: {s for k, s, _ in events if k == kind} for kind in EXPECTED_STAGES}
        assert stages == EXPECTED_STAGES

        token = mint_token(tmp_path, tenant="acme", roles=["hr"], sub="hr-1")
        headers = {"Authorization": f"Bearer {token}"}
        timeline = (await host.client.get("/v1/cases/case-2018/timeline", headers=headers)).json()
        statuses = {o["kind"]: o["status"] for o in timeline["obligations"]}
        assert statuses == dict.fromkeys(EXPECTED_STAGES, "fulfilled") | {
            "revised_plan_to_nav": "not_required"
        }

        await host.stop()  # and once more at the end, then months later: nothing new fires
        await host.start()
        await host.move_clock(date(2019, 4, 1))
        await host.settled(case.case_id)
        assert await host.deadline_events() == events
        again = (await host.client.get("/v1/cases/case-2018/timeline", headers=headers)).json()
        assert again == timeline
