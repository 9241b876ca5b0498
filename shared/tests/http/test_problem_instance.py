"""A problem's ``instance`` never names the person a request was about: personal path
parameters (an employee's id, a party's) are given by name, every other path stays as asked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Path

from naervaer.http.problems import (
    Problem,
    ProblemError,
    install_problem_handlers,
    problem_instance,
)

PERSON = "emp-4711"
CASE_ID = "0f9c1c2e6a7b4d3e9f8a7b6c5d4e3f2a"
router = APIRouter(prefix="/v1")


@router.get("/employees/{employee_id}/retention")
async def retention(employee_id: Annotated[str, Path(max_length=20)]) -> None:
    raise ProblemError(Problem.for_status(404, detail="No case of this employee is held."))


@router.get("/employees/{employee_id}/cases/{case_id}")
async def employee_case(employee_id: str, case_id: str) -> None:
    raise ProblemError(Problem.for_status(404, detail="No such case."))


@router.get("/recipients/{party_id}")
async def recipient(party_id: str) -> None:
    raise RuntimeError(f"failed for {party_id}")  # an unexpected error: 500


@router.get("/cases/{case_id}")
async def case(case_id: str) -> None:
    raise ProblemError(Problem.for_status(404, detail="No such case."))


def app() -> FastAPI:
    service = FastAPI()
    service.include_router(router)
    install_problem_handlers(service)
    return service


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def problem(client: httpx.AsyncClient, path: str, status: int) -> dict[str, Any]:
    response = await client.get(path)
    assert response.status_code == status, response.text
    assert PERSON not in response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_employee_id_in_the_path_is_named_not_echoed(
    client: httpx.AsyncClient,
) -> None:
    body = await problem(client, f"/v1/employees/{PERSON}/retention", 404)
    assert body["instance"] == "/v1/employees/{employee_id}/retention"
    assert body["detail"] == "No case of this employee is held."


async def test_only_the_personal_segment_is_masked(client: httpx.AsyncClient) -> None:
    body = await problem(client, f"/v1/employees/{PERSON}/cases/{CASE_ID}", 404)
    assert body["instance"] == f"/v1/employees/{{employee_id}}/cases/{CASE_ID}"


async def test_an_invalid_path_value_is_not_echoed_either(client: httpx.AsyncClient) -> None:
    body = await problem(client, f"/v1/employees/{PERSON}-far-too-long-for-an-id/retention", 422)
    assert body["instance"] == "/v1/employees/{employee_id}/retention"


async def test_an_unexpected_error_names_the_party_by_parameter(
    client: httpx.AsyncClient,
) -> None:
    body = await problem(client, f"/v1/recipients/{PERSON}", 500)
    assert body["instance"] == "/v1/recipients/{party_id}"


async def test_paths_without_personal_ids_stay_as_asked(client: httpx.AsyncClient) -> None:
    assert (await problem(client, f"/v1/cases/{CASE_ID}", 404))["instance"] == (
        f"/v1/cases/{CASE_ID}"
    )
    assert (await problem(client, f"/nowhere/{PERSON[:3]}", 404))["instance"] == "/nowhere/emp"


def test_before_routing_the_route_is_found_and_a_root_path_kept() -> None:
    """Answers given by a middleware (429, 413) see no matched route yet."""
    scope = {
        "type": "http",
        "method": "GET",
        "app": app(),
        "root_path": "/deadline",
        "path": f"/deadline/v1/employees/{PERSON}/retention",
        "headers": [],
    }
    assert problem_instance(scope) == "/deadline/v1/employees/{employee_id}/retention"
