"""A reused Idempotency-Key (the event store's ``IdempotencyKeyReused``) answers 422."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from naervaer.eventstore import IdempotencyKeyReused
from naervaer.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers


async def test_reused_key_is_a_422_problem_naming_the_rule() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def create() -> None:
        raise IdempotencyKeyReused("tenant:sub:POST /things:key-1")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.post("/things", json={})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == "urn:naervaer:problem:idempotency_key_reused"
    assert body["rule"] == "idempotency_key_reused"
    assert body["instance"] == "/things"
    assert "key-1" not in response.text
