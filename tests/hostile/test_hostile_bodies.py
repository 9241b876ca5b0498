"""Bodies no client should send: too large, nested without end, not UTF-8, holding NUL.

Each service refuses each of them with an RFC 9457 problem that shows nothing of the server's
insides, at one JSON write endpoint per service.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

import pytest

from naervaer.http.middleware import BodySizeLimitMiddleware

from .hosting import Platform, assert_clean_problem

pytestmark = pytest.mark.integration

CHUNK = 64 * 1024


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str


# One JSON write per service; the document id need not exist: bodies are refused first.
WRITES = (
    Endpoint("case", "POST", "/v1/cases"),
    Endpoint("deadline", "PUT", "/v1/dev/clock"),
    Endpoint("notification", "PUT", "/v1/policy"),
    Endpoint("document", "POST", "/v1/documents/doc-1/versions/1/signatures"),
)
JSON = {"Content-Type": "application/json"}


def body_limit(platform: Platform, service: str) -> int:
    """The service's body size limit (the document service's is its attachment limit)."""
    app = platform.runtimes[service].app
    kinds = [(cast(object, m.cls), m.kwargs) for m in app.user_middleware]
    [limit] = [kwargs["max_bytes"] for kind, kwargs in kinds if kind is BodySizeLimitMiddleware]
    assert isinstance(limit, int)
    return limit


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.service)
async def test_a_declared_oversized_body_is_413(platform: Platform, endpoint: Endpoint) -> None:
    limit = body_limit(platform, endpoint.service)
    body = b'{"x": "' + b"a" * limit + b'"}'
    response = await platform.clients[endpoint.service].request(
        endpoint.method, endpoint.path, content=body, headers={**platform.auth("hr"), **JSON}
    )
    problem = assert_clean_problem(response, 413)
    assert str(limit) in problem["detail"]


class CountingBody:
    """A chunked body of ``total`` bytes that counts how much of it the server pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"x": "'
        while self.sent < self.total:
            self.sent += CHUNK
            yield b"a" * CHUNK


@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.service)
async def test_a_streamed_oversized_body_is_cut_off_early(
    platform: Platform, endpoint: Endpoint
) -> None:
    limit = body_limit(platform, endpoint.service)
    body = CountingBody(total=8 * limit)  # announced by no Content-Length
    response = await platform.clients[endpoint.service].request(
        endpoint.method,
        endpoint.path,
        content=body,
        headers={**platform.auth("hr"), **JSON},
    )
    assert_clean_problem(response, 413)
    assert body.sent <= limit + 2 * CHUNK, "read far past the limit"


def _nested(depth: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.service)
async def test_json_nested_10000_deep_is_400_not_a_recursion_error(
    platform: Platform, endpoint: Endpoint, kind: str
) -> None:
    response = await platform.clients[endpoint.service].request(
        endpoint.method,
        endpoint.path,
        content=_nested(10_000, kind),
        headers={**platform.auth("hr"), **JSON},
    )
    assert_clean_problem(response, 400)


@pytest.mark.parametrize("depth", [500, 900, 990])
async def test_deep_but_parseable_json_reaches_the_diagnosis_guard_safely(
    platform: Platform, depth: int
) -> None:
    # The case service walks every write body for diagnoses (recursively): a body the JSON
    # parser just accepts must not overflow the walk.
    body = b'{"org_unit": ' + _nested(depth, "arrays") + b"}"
    response = await platform.clients["case"].post(
        "/v1/cases", content=body, headers={**platform.auth("hr"), **JSON}
    )
    assert_clean_problem(response, (400, 422))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"employee_id": "\xff\xfe"}', 400),  # invalid start bytes
        (b'{"employee_id": "\xc3"}', 400),  # a truncated two-byte sequence
        (b"\xef\xbb\xbf\xff{}", 400),  # a BOM, then garbage
        # An encoded surrogate (CESU-8): Python's JSON decoder lets it through as a lone
        # surrogate, which the string validation then refuses.
        (b'{"employee_id": "\xed\xa0\x80"}', (400, 422)),
    ],
    ids=["ff-fe", "truncated", "bom-garbage", "surrogate"],
)
@pytest.mark.parametrize("endpoint", WRITES, ids=lambda e: e.service)
async def test_invalid_utf8_is_refused(
    platform: Platform, endpoint: Endpoint, body: bytes, status: int | tuple[int, ...]
) -> None:
    response = await platform.clients[endpoint.service].request(
        endpoint.method, endpoint.path, content=body, headers={**platform.auth("hr"), **JSON}
    )
    assert_clean_problem(response, status)


async def test_a_json_escaped_lone_surrogate_is_refused_not_stored(platform: Platform) -> None:
    body = (
        b'{"employee_id": "emp-1", "manager_id": "mgr-1", "org_unit": "a\\ud800b",'
        b' "first_absence_day": "2026-01-05"}'
    )
    response = await platform.clients["case"].post(
        "/v1/cases", content=body, headers={**platform.auth("hr"), **JSON}
    )
    problem = assert_clean_problem(response, 422)
    assert [e["location"] for e in problem["errors"]] == ["#/org_unit"]


@pytest.mark.parametrize(
    ("service", "path"),
    [
        # Both answered 500 before (found by schemathesis): a statistics period in year 1 fell
        # off the calendar, and a version beyond PostgreSQL's integer failed the query.
        ("case", "/v1/statistics/absence?org_unit=u&from=0001-01-01&to=0001-01-02"),
        ("case", "/v1/statistics/absence?org_unit=u&from=9999-12-30&to=9999-12-31"),
        ("document", "/v1/documents/doc-1/versions/2147483648"),
        ("document", "/v1/documents/doc-1/versions/99999999999999999999"),
    ],
)
async def test_values_at_the_edge_of_their_type_are_refused(
    platform: Platform, service: str, path: str
) -> None:
    response = await platform.clients[service].get(path, headers=platform.auth("hr"))
    problem = assert_clean_problem(response, 422)
    assert problem["errors"], problem
