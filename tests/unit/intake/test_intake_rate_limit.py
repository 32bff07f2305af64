"""The public contact endpoint's per-client token buckets: a burst, then a steady rate, per address."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from mash_intake.rate_limit import ContactRateLimit, TokenBuckets

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_one_token_per_interval_and_others_are_not_affected() -> None:
    clock = Clock()
    buckets = TokenBuckets(per_minute=6, burst=3, clock=clock)  # one token every 10 s

    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(10.0)
    assert buckets.take("b") == 0.0
    clock.now = 5.0
    assert buckets.take("a") == pytest.approx(5.0)
    clock.now = 10.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") == pytest.approx(10.0)
    clock.now = 1000.0
    assert [buckets.take("a") for _ in range(4)][:3] == [0.0, 0.0, 0.0]  # refilled to the burst, no more


async def test_the_middleware_answers_429_in_json_with_retry_after_and_leaves_other_routes_alone() -> None:
    app = FastAPI()

    @app.post("/contacts", status_code=202)
    async def contacts() -> dict[str, str]:
        return {"status": "received"}

    @app.get("/contacts/{referral_id}")
    async def status(referral_id: str) -> dict[str, str]:
        return {"referral_id": referral_id}

    app.add_middleware(ContactRateLimit, path="/contacts", per_minute=1, burst=2)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        codes = [(await client.post("/contacts", json={})).status_code for _ in range(2)]
        refused = await client.post("/contacts", json={})
        reads = [(await client.get("/contacts/R-1")).status_code for _ in range(5)]
    other = httpx.ASGITransport(app=app, client=("198.51.100.9", 4000))
    async with httpx.AsyncClient(transport=other, base_url="http://intake") as client:
        elsewhere = await client.post("/contacts", json={})

    assert codes == [202, 202]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/json"
    assert int(refused.headers["retry-after"]) == refused.json()["retry_after_seconds"] >= 1
    assert refused.json()["error"] == "too_many_requests"
    assert reads == [200] * 5
    assert elsewhere.status_code == 202
