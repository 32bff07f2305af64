"""Who may open which page: refused before any service is asked, and signed-out people sent to sign in."""

from __future__ import annotations

import httpx
import pytest
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients

from tests.unit.workspace.workspace_builders import (
    BASE_URL,
    CLOCK,
    CSRF,
    SESSIONS,
    FakeHub,
    case_view,
    person,
    settings,
    workspace,
)

pytestmark = pytest.mark.unit


async def test_signed_out_the_queue_sends_you_to_sign_in_and_back() -> None:
    hub = FakeHub()
    async with workspace(hub) as client:
        response = await client.get("/queue")

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/queue"
    assert hub.calls == []


async def test_signed_out_the_way_back_keeps_the_filters() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/queue", params={"state": "awaiting_decision", "rating": "red"})

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/queue%3Fstate%3Dawaiting_decision%26rating%3Dred"


@pytest.mark.parametrize("path", ["/cases/REF-1", "/cases/REF-1/decision", "/portal", "/portal/police"])
async def test_signed_out_every_private_page_sends_you_to_sign_in(path: str) -> None:
    hub = FakeHub()
    async with workspace(hub) as client:
        response = await client.get(path)

    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next={path}"
    assert hub.calls == []


async def test_a_screener_cannot_reach_the_decision_form() -> None:
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", case_view())
    async with workspace(hub, person("screener")) as client:
        response = await client.get("/cases/REF-1/decision")

    assert response.status_code == 403
    assert "You cannot see this page" in response.text
    assert "This page is for: manager" in response.text
    assert "Lily" not in response.text
    assert hub.calls == []


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/cases/REF-1/decision/preview"), ("POST", "/cases/REF-1/decision"),
    ("GET", "/cases/REF-1/enquiry"), ("POST", "/cases/REF-1/enquiry"),
])
async def test_a_screener_cannot_preview_decide_or_open_an_enquiry(method: str, path: str) -> None:
    hub = FakeHub()
    async with workspace(hub, person("screener")) as client:
        response = await client.request(method, path, data={"csrf_token": "known-token", "outcome": "early_help",
                                                            "rationale": "x", "agencies": "police"}
                                        if method == "POST" else None)

    assert response.status_code == 403
    assert hub.calls == []


async def test_an_analyst_may_read_the_queue_but_not_screen() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", [])
    async with workspace(hub, person("analyst")) as client:
        queue = await client.get("/queue")
        screening = await client.post("/cases/REF-1/screening", data={"csrf_token": "known-token", "rating": "red"})

    assert queue.status_code == 200
    assert screening.status_code == 403
    assert [call.path for call in hub.calls] == ["/queue"]


async def test_an_agency_user_cannot_see_another_agencys_requests() -> None:
    hub = FakeHub().on("enquiry", "GET", "/agencies/education/requests", [{"enquiry_id": "ENQ-9"}])
    async with workspace(hub, person("agency", agency="police")) as client:
        listing = await client.get("/portal/education")
        one = await client.get("/portal/education/requests/ENQ-9")
        answer = await client.post("/portal/education/requests/ENQ-9",
                                   data={"csrf_token": "known-token", "outcome": "nothing_known"})

    for response in (listing, one, answer):
        assert response.status_code == 403
        assert "only your own agency" in response.text
        assert "ENQ-9" not in response.text
    assert hub.calls == []


async def test_an_agency_user_cannot_open_hub_pages() -> None:
    hub = FakeHub()
    async with workspace(hub, person("agency", agency="police")) as client:
        response = await client.get("/queue")

    assert response.status_code == 403
    assert hub.calls == []


async def test_hub_staff_have_no_portal() -> None:
    hub = FakeHub()
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/portal/police")

    assert response.status_code == 403
    assert hub.calls == []


async def test_the_portal_opens_on_your_own_agency() -> None:
    async with workspace(FakeHub(), person("agency", agency="police")) as client:
        response = await client.get("/portal")

    assert response.status_code == 303
    assert response.headers["location"] == "/portal/police"


@pytest.mark.parametrize(("role", "agency", "home"), [
    ("screener", None, "/queue"), ("manager", None, "/queue"), ("analyst", None, "/queue"),
    ("agency", "police", "/portal"),
])
async def test_the_start_page_sends_a_signed_in_person_to_their_work(role: str, agency: str | None, home: str) -> None:
    async with workspace(FakeHub(), person(role, agency=agency)) as client:
        response = await client.get("/")

    assert response.status_code == 303
    assert response.headers["location"] == home


async def test_a_service_refusing_the_token_signs_the_person_out_and_back_in() -> None:
    hub = FakeHub().on("decision", "GET", "/queue", {"error": "http_error", "message": "token expired"}, status=401)
    async with workspace(hub, person("manager")) as client:
        response = await client.get("/queue")
        again = await client.get("/queue")

    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/queue"
    assert again.status_code == 303, "the session no longer holds the refused token"
    assert len(hub.calls) == 1


async def test_a_service_refusing_the_role_shows_nothing_of_the_case() -> None:
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", {"error": "http_error", "message": "not for analysts"}, status=403)
    async with workspace(hub, person("analyst")) as client:
        response = await client.get("/cases/REF-1")

    assert response.status_code == 403
    assert "not for analysts" in response.text


async def test_without_an_identity_provider_sign_in_says_so() -> None:
    config = settings().model_copy(update={"oidc_issuer": None})
    app = create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(FakeHub().handler)),
                     database=SESSIONS, clock=CLOCK)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        response = await client.get("/sign-in", params={"next": "/queue"})

    assert response.status_code == 503
    assert "Sign-in is not available" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_a_form_refused_for_an_expired_token_signs_in_again_back_to_the_form_page_not_the_post_address() -> None:
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", {"error": "http_error", "message": "token expired"}, status=401)
    async with workspace(hub, person("manager")) as client:
        from_the_form = await client.post("/cases/REF-1/decision/preview", data={"csrf_token": CSRF},
                                          headers={"Referer": f"{BASE_URL}/cases/REF-1/decision"})

    assert from_the_form.status_code == 303
    assert from_the_form.headers["location"] == "/sign-in?next=/cases/REF-1/decision"


async def test_after_a_refused_form_a_referer_from_elsewhere_is_not_followed() -> None:
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", {"error": "http_error", "message": "token expired"}, status=401)
    async with workspace(hub, person("manager")) as client:
        elsewhere = await client.post("/cases/REF-1/decision/preview", data={"csrf_token": CSRF},
                                      headers={"Referer": "https://evil.example/cases/REF-1/decision"})

    assert elsewhere.status_code == 303
    assert elsewhere.headers["location"] == "/sign-in?next=/"
