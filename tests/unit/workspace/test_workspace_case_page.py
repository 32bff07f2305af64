"""The case page just after a MASH enquiry is opened, before the research desk has taken it, and after."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.workspace.workspace_builders import FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit

MANAGER = person("manager", sub="mgr-okafor")
ENQUIRY = {"enquiry_id": "ENQ-REF-1", "opened_by": "mgr-okafor", "agencies": ["police", "education"],
           "due_at": "2026-03-04T17:30:00+00:00", "lawful_basis": "public task"}


def with_open_enquiry(hub: FakeHub) -> FakeHub:
    view: dict[str, Any] = case_view(state="awaiting_enquiry")
    view["case_file"]["enquiry"] = ENQUIRY
    return hub.on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])


async def test_an_enquiry_the_research_desk_has_not_yet_taken_is_on_its_way_not_a_missing_page() -> None:
    hub = with_open_enquiry(FakeHub())  # enquiry's GET /enquiries/ENQ-REF-1 is not routed: a 404, as in that moment
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/cases/REF-1?done=enquiry")

    assert response.status_code == 200
    page = response.text
    assert "MASH enquiry opened: the agencies have been asked." in page
    assert "The requests are on their way to the agencies" in page
    assert "Page not found" not in page
    assert hub.called("enquiry", "GET", "/enquiries/ENQ-REF-1"), "the research desk was asked"


async def test_once_taken_the_page_shows_who_answered_and_who_has_not() -> None:
    hub = with_open_enquiry(FakeHub()).on("enquiry", "GET", "/enquiries/ENQ-REF-1",
                                          {"answered": ["police"], "not_answered": ["education"]})
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/cases/REF-1")).text

    assert "Answered: police." in page
    assert "Not yet answered: education." in page
    assert "on their way" not in page


async def test_any_other_refusal_by_the_research_desk_is_still_shown_as_a_refusal() -> None:
    hub = with_open_enquiry(FakeHub()).on("enquiry", "GET", "/enquiries/ENQ-REF-1",
                                          {"error": "forbidden", "message": "not yours"}, status=403)
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/cases/REF-1")

    assert response.status_code == 403
    assert "You cannot see this page" in response.text
