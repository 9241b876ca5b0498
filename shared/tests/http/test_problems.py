"""Every error answer is an RFC 9457 problem document with the right members."""

from __future__ import annotations

from typing import Any

import httpx
from opentelemetry.trace import SpanKind, StatusCode

from naervaer.http.problems import PROBLEM_MEDIA_TYPE

VALID_NOTE = {
    "employee": "e-1",
    "grade": 50,
    "period": {"start": "2026-01-05", "end": "2026-01-09"},
}


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    return body


async def test_valid_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/cases/7/sick-notes", json=VALID_NOTE)
    assert response.status_code == 201
    assert response.json() == {"case_id": 7, "grade": 50}


async def test_invalid_request_lists_each_invalid_value_precisely(
    client: httpx.AsyncClient,
) -> None:
    note = {"employee": "e-1", "grade": "fnr 01019012345", "period": {"end": "2026-13-01"}}
    response = await client.post("/cases/abc/sick-notes?limit=many", json=note)
    body = problem_of(response, 422)
    assert body["type"] == "urn:naervaer:problem:validation-error"
    assert body["instance"] == "/cases/abc/sick-notes"
    errors = {e["location"]: e for e in body["errors"]}
    assert set(errors) == {
        "path.case_id",
        "query.limit",
        "#/grade",
        "#/period/start",
        "#/period/end",
    }
    assert errors["#/period/start"]["type"] == "missing"
    assert errors["#/grade"]["type"] == "int_parsing"
    assert errors["query.limit"]["message"].startswith("Input should be a valid integer")
    assert "01019012345" not in response.text  # input values are never echoed


async def test_malformed_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/cases/7/sick-notes",
        content=b'{"employee": "e-1",',
        headers={"content-type": "application/json"},
    )
    body = problem_of(response, 400)
    assert body["type"] == "urn:naervaer:problem:malformed-json"
    assert "not valid JSON" in body["detail"]
    assert "errors" not in body


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    body = problem_of(await client.get("/nowhere"), 404)
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["instance"] == "/nowhere"


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/cases/7/sick-notes")
    body = problem_of(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "POST"


async def test_http_exception_keeps_status_and_detail(client: httpx.AsyncClient) -> None:
    body = problem_of(await client.get("/teapot"), 418)
    assert body["detail"] == "Only coffee here."


async def test_concurrency_conflict_is_409_with_versions(client: httpx.AsyncClient) -> None:
    body = problem_of(await client.post("/cases/case-9/close"), 409)
    assert body["type"] == "urn:naervaer:problem:concurrency-conflict"
    assert (body["stream_id"], body["expected_version"], body["actual_version"]) == (
        "case-9",
        3,
        4,
    )


async def test_problem_error_answers_with_its_problem_and_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/refused")
    body = problem_of(response, 422)
    assert body["type"] == "urn:naervaer:problem:sick-note-overlap"
    assert body["rule"] == "no-overlap"
    assert response.headers["x-rule"] == "no-overlap"


async def test_unexpected_error_is_500_without_a_trace_of_the_exception(
    client: httpx.AsyncClient, service: Any
) -> None:
    response = await client.get("/boom", headers={"X-Correlation-Id": "corr-500"})
    body = problem_of(response, 500)
    for leak in ("01019012345", "SELECT", "RuntimeError", "Traceback", "boom()"):
        assert leak not in response.text
    [span] = [s for s in service.spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert body["trace_id"] == format(span.context.trace_id, "032x")
    assert body["correlation_id"] == "corr-500"
    assert span.status.status_code is StatusCode.ERROR
    assert any(event.name == "exception" for event in span.events)


async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    oversized = {**VALID_NOTE, "employee": "x" * 400}
    response = await client.post("/cases/7/sick-notes", json=oversized)
    body = problem_of(response, 413)
    assert "256 bytes" in body["detail"]
    assert response.headers["connection"] == "close"  # the unread body is not drained


async def test_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(10):
            yield b" " * 50  # no Content-Length: counted as it arrives

    response = await client.post(
        "/cases/7/sick-notes", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    problem_of(response, 413)


async def test_openapi_documents_problems_not_fastapi_defaults(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "Problem" in schemas
    assert "InvalidParam" in schemas
    assert "HTTPValidationError" not in schemas
    responses = document["paths"]["/cases/{case_id}/sick-notes"]["post"]["responses"]
    for status in ("400", "404", "409", "412", "413", "422", "500"):
        assert list(responses[status]["content"]) == [PROBLEM_MEDIA_TYPE], status
    assert "/healthz" not in document["paths"]
