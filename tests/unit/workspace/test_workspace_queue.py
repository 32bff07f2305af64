"""The queue page: BRAG as colour and text, the breach marker, filters passed to the desk."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.unit.workspace.workspace_builders import FakeHub, person, workspace

pytestmark = pytest.mark.unit


def entry(referral_id: str, rating: str, status: str, time_left: str, state: str = "awaiting_decision") -> dict[str, Any]:
    return {"referral_id": referral_id, "state": state, "rating": rating, "received_at": "2026-03-04T09:30:00+00:00",
            "due_at": "2026-03-04T10:30:00+00:00", "target": "1 hour", "status": status, "minutes_left": -15,
            "time_left": time_left, "enquiry_completed": False}


QUEUE = [
    entry("REF-RED", "red", "breached", "overdue by 0h 15m (continuous)"),
    entry("REF-AMBER", "amber", "near_breach", "0h 40m (working)", state="awaiting_screening"),
    entry("REF-GREEN", "green", "on_track", "7h 00m (working)"),
]


def row_of(page: str, referral_id: str) -> str:
    match = re.search(rf'<tr class="govuk-table__row">\s*<td[^>]*><a[^>]*href="/cases/{referral_id}".*?</tr>', page, re.S)
    assert match, f"no row for {referral_id}"
    return match.group(0)


async def test_the_queue_shows_each_rating_as_colour_and_text_and_marks_a_breach() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", QUEUE)
    async with workspace(hub, person("screener")) as client:
        response = await client.get("/queue")

    assert response.status_code == 200
    page = response.text
    red, amber, green = (row_of(page, ref) for ref in ("REF-RED", "REF-AMBER", "REF-GREEN"))
    assert re.search(r'class="govuk-tag govuk-tag--red">\s*Red\s*<', red)
    assert re.search(r'class="govuk-tag govuk-tag--orange">\s*Amber\s*<', amber)
    assert re.search(r'class="govuk-tag govuk-tag--green">\s*Green\s*<', green)
    assert '<span class="mash-breach">Breached</span>' in red
    assert "overdue by 0h 15m (continuous)" in red
    assert "Near breach" in amber and "Breached" not in amber
    assert "Breach" not in green
    assert "Awaiting screening" in amber
    assert page.index("REF-RED") < page.index("REF-AMBER") < page.index("REF-GREEN"), "the desk's order is kept"
    assert "3 referrals" in page
    [call] = hub.calls
    assert call.params == {}
    assert call.bearer == "token-of-screener"


async def test_filters_go_to_the_desk_as_query_parameters_and_stay_chosen() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", QUEUE[:1])
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue", params={"state": "awaiting_decision", "rating": "red"})

    [call] = hub.calls
    assert call.params == {"state": "awaiting_decision", "rating": "red"}
    assert '<option value="awaiting_decision" selected>' in response.text
    assert '<option value="red" selected>' in response.text


async def test_an_unknown_filter_is_dropped_not_passed_on() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", [])
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue", params={"state": "closed'><script>", "rating": "purple"})

    assert response.status_code == 200
    [call] = hub.calls
    assert call.params == {}
    assert "<script>" not in response.text.split("</head>", 1)[1].replace('<script src=', '').replace(
        '<script type="module" src=', '')
    assert "Nothing is waiting" in response.text


async def test_an_empty_filtered_queue_says_so() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", [])
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue", params={"rating": "blue"})

    assert "Nothing is waiting with these filters" in response.text


async def test_the_desk_failing_is_a_problem_page_not_a_crash() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", {"error": "http_error", "message": "store unavailable"}, status=503)
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue")

    assert response.status_code == 502
    assert "Sorry, there is a problem with the service" in response.text
    assert "store unavailable" not in response.text


async def test_the_desk_not_answering_is_a_problem_page_with_the_security_headers() -> None:
    class Down(FakeHub):
        def handler(self, request: httpx.Request) -> httpx.Response:
            super().handler(request)
            raise httpx.ConnectError("connection refused", request=request)

    hub = Down()
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue")

    assert response.status_code == 502
    assert "Sorry, there is a problem with the service" in response.text
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert len(hub.calls) == 1
