"""An append the event store refused because its stream is another tenant's
(``StreamOfAnotherTenant``) answers 404, as a resource that does not exist: the answer does
not tell that another tenant has it, nor name the stream."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from naervaer.eventstore import StreamOfAnotherTenant
from naervaer.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


async def test_an_append_to_another_tenants_stream_is_a_404_problem() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/cases/{case_id}/notes")
    async def note(case_id: str) -> None:
        raise StreamOfAnotherTenant(case_id, "globex")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/cases/case-7f3a/notes", json={})
        unknown = await client.get("/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == unknown.json()["type"]  # the same answer as any missing resource
    assert body["title"] == unknown.json()["title"]
    assert body["instance"] == "/cases/case-7f3a/notes"  # the caller's own request
    told = {name: value for name, value in body.items() if name != "instance"}
    assert "case-7f3a" not in str(told)
    assert "globex" not in response.text
