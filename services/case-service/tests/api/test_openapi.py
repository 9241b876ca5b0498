"""The API documents itself: every write route has a summary, a request example that its
schema accepts, the Idempotency-Key and If-Match headers, and its problem answers."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from case_service.api.examples import EXAMPLES
from case_service.wiring import WRITE_ROUTERS

from .hosting import CaseApi

WRITE_ROUTES = [
    route
    for router in WRITE_ROUTERS
    for route in router.routes
    if isinstance(route, APIRoute) and route.methods & {"POST", "PUT"}
]
PROBLEMS = {"400", "401", "403", "422"}


@pytest.fixture(scope="module")
async def spec(hosted: CaseApi) -> dict[str, Any]:
    response = await hosted.client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operation(spec: dict[str, Any], route: APIRoute) -> dict[str, Any]:
    method = next(iter(route.methods)).lower()
    found: dict[str, Any] = spec["paths"][route.path][method]
    return found


def test_there_is_a_route_for_every_command() -> None:
    # open, 28 case commands, self-certification, withdraw and restore the right, the policy
    assert len(WRITE_ROUTES) == 33


@pytest.mark.parametrize("route", WRITE_ROUTES, ids=lambda r: r.name)
def test_every_write_route_is_documented(spec: dict[str, Any], route: APIRoute) -> None:
    documented = operation(spec, route)
    assert documented.get("summary"), route.path
    assert set(documented["responses"]) >= PROBLEMS, route.path
    if route.path != "/v1/cases":  # opening makes a new case: nothing to find, nothing stale
        assert {"404", "409", "412"} <= set(documented["responses"]), route.path
    headers = {p["name"] for p in documented.get("parameters", []) if p["in"] == "header"}
    assert {"idempotency-key", "if-match"} <= headers, route.path
    if route.body_field is None:
        return  # restoring the right needs no body
    content = documented["requestBody"]["content"]["application/json"]
    [example] = content["examples"].values()
    model = route.body_field.field_info.annotation
    assert example["value"] == EXAMPLES[model.__name__]
    model.model_validate(example["value"])


def test_problem_answers_are_problem_documents(spec: dict[str, Any]) -> None:
    responses = spec["paths"]["/v1/cases/{case_id}/sick-notes"]["post"]["responses"]
    assert "application/problem+json" in responses["412"]["content"]
