"""The four services' OpenAPI documents tell the whole truth: every operation has a summary,
every JSON request body an example its schema accepts, and every 4xx an operation answers is
documented as a problem document (RFC 9457) — as written, and as refused calls really get them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from .platform_fixtures import Platform, hosted_platform, platform_settings

pytestmark = pytest.mark.integration

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Platform]:
    """The four services in-process (the document does not depend on the transport)."""
    async with hosted_platform(platform_settings(tmp_path_factory.mktemp("openapi"))) as hosted:
        yield hosted


async def test_every_operation_documents_its_answers(platform: Platform) -> None:
    """Summary, request example, problem answers: as written, and as refused calls get them."""
    gaps = []
    for service, client in platform.clients.items():
        spec: dict[str, Any] = (await client.get("/openapi.json")).json()
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                found = documentation_gaps(operation, spec["components"])
                found += await undocumented_answers(platform, client, method, path, operation)
                gaps += [f"{service} {method.upper()} {path}: {gap}" for gap in found]
    assert not gaps, "\n".join(gaps)


def documentation_gaps(operation: dict[str, Any], components: dict[str, Any]) -> list[str]:
    """What the document leaves out, and the 4xx that every operation of its kind can answer."""
    responses: dict[str, Any] = operation["responses"]
    gaps = [] if operation.get("summary") else ["no summary"]
    gaps += [
        f"{status} is not a problem document"
        for status, response in responses.items()
        if status.startswith("4") and response.get("content") != PROBLEM
    ]
    body = json_body(operation)
    if body is not None:
        example = example_of(operation)
        schema = Draft202012Validator(body["schema"] | {"components": components})
        if example is None:
            gaps.append("request body without an example")
        elif not schema.is_valid(example):
            gaps.append("the request example does not match its schema")
    expected = {"401"} if operation.get("security") else set()
    expected |= {"422"} if operation.get("parameters") or body is not None else set()
    expected |= {"400"} if body is not None else set()
    gaps += [f"{status} not documented" for status in sorted(expected - set(responses))]
    return gaps


async def undocumented_answers(
    platform: Platform, client: httpx.AsyncClient, method: str, path: str, op: dict[str, Any]
) -> list[str]:
    """Calls the operation must refuse: each answer's status must be documented."""
    url = concrete(path, op)
    calls: list[tuple[str, dict[str, str], object]] = []
    if op.get("security"):  # an employee of a tenant that has nothing stored
        employee = platform.auth(tenant="probe", role="employee", sub="probe-employee")
        calls += [("no token", {}, None), ("employee's call", employee, example_of(op))]
    if json_body(op) is not None:
        hr = platform.auth(tenant="probe", role="hr", sub="probe-hr") if op.get("security") else {}
        calls += [("malformed JSON", hr, b'{"'), ("a list for a body", hr, [])]
    gaps = []
    for name, headers, body in calls:
        content = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        if content is not None:
            headers = headers | {"Content-Type": "application/json"}
        response = await client.request(method, url, content=content, headers=headers)
        status = str(response.status_code)
        if status not in op["responses"] or (name == "no token" and status != "401"):
            gaps.append(f"{name} answered {status}, not documented")
    return gaps


def json_body(operation: dict[str, Any]) -> dict[str, Any] | None:
    content: dict[str, Any] = operation.get("requestBody", {}).get("content", {})
    return content.get("application/json")


def example_of(operation: dict[str, Any]) -> object:
    examples = list((json_body(operation) or {}).get("examples", {}).values())
    return examples[0]["value"] if examples else None


def concrete(path: str, operation: dict[str, Any]) -> str:
    """``path`` with a valid value for each path and required query parameter."""
    query = {}
    for parameter in operation.get("parameters", []):
        value = placeholder(parameter.get("schema", {}))
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "query" and parameter.get("required"):
            query[parameter["name"]] = value
    return str(httpx.URL(path, params=query))


def placeholder(schema: dict[str, Any]) -> str:
    """A valid value of ``schema`` that names nothing stored."""
    if "enum" in schema:
        return str(schema["enum"][0])
    by_format = {"uuid": str(uuid.uuid4()), "date": "2026-01-05"}
    by_type = {"integer": "1", "number": "1"}
    return by_format.get(schema.get("format", ""), by_type.get(schema.get("type", ""), "probe-1"))
