"""A service's 4xx is the page's error summary naming the field; 502 only when it could not be reached (issue 22).

Who looked with "ok" as the reason: every service answers 422 on `reason` (at least 3 characters), and the page
turned that into "Sorry, there is a problem with the service" (defect 3). Now every form the workspace sends
to a service puts the service's refusal on the field it named, in GOV.UK words, and only a service that
failed or could not be reached is the problem page.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.unit.workspace.test_workspace_concern import summary_links
from tests.unit.workspace.workspace_builders import CSRF, FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit

MANAGER = person("manager")
POLICE = person("agency", agency="police")


def refusal(field: str, message: str) -> dict[str, Any]:
    """A service's 422, as mash_runtime.http writes it."""
    return {"error": "invalid_request", "message": "Some fields need correcting.",
            "fields": [{"field": field, "message": message}]}


class Unreachable(FakeHub):
    """Every service refuses the connection."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


async def test_ok_as_a_reason_on_who_looked_is_the_fields_error_message() -> None:
    hub = FakeHub()
    for service in ("intake", "decision", "enquiry", "notify", "insight"):
        hub.on(service, "GET", "/audit", refusal("reason", "String should have at least 3 characters"), status=422)
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/who-looked", params={"referral_id": "MASH-1", "reason": "ok"})
    assert response.status_code == 400
    assert summary_links(response.text) == [("#reason", "Why you are looking must be 3 characters or more")]
    assert "Error:" in response.text.split("</title>")[0]


async def test_who_looked_is_the_problem_page_only_when_a_service_cannot_be_reached() -> None:
    async with workspace(Unreachable(), MANAGER) as client:
        response = await client.get("/who-looked", params={"referral_id": "MASH-1", "reason": "a complaint"})
    assert response.status_code == 502
    assert "Sorry, there is a problem with the service" in response.text


async def test_who_looked_names_an_impossible_person_reference_without_asking() -> None:
    hub = FakeHub()
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/who-looked", params={"person_ref": "LA-1/../x\n", "reason": "a complaint"})
    assert response.status_code == 400
    assert [href for href, _ in summary_links(response.text)] == ["#person_ref"]
    assert hub.calls == []


async def test_screening_refused_on_its_rationale_says_so_at_the_field() -> None:
    hub = (FakeHub().on("decision", "GET", "/cases/REF-1", case_view()).on("decision", "GET", "/cases/REF-1/audit", [])
           .on("decision", "POST", "/cases/REF-1/screening",
               refusal("rationale", "must only include letters, numbers, spaces, punctuation and line breaks"),
               status=422))
    async with workspace(hub, MANAGER, csrf=CSRF) as client:
        response = await client.post("/cases/REF-1/screening",
                                     data={"csrf_token": CSRF, "rating": "red", "rationale": "x"})
    assert response.status_code == 200
    assert summary_links(response.text) == [
        ("#rationale", "The reason for the rating must only include letters, numbers, spaces, punctuation and "
                       "line breaks")]


async def test_screening_with_decision_unreachable_is_the_problem_page_not_a_field_error() -> None:
    async with workspace(Unreachable(), MANAGER, csrf=CSRF) as client:
        response = await client.post("/cases/REF-1/screening",
                                     data={"csrf_token": CSRF, "rating": "red", "rationale": "x"})
    assert response.status_code == 502
    assert "Sorry, there is a problem with the service" in response.text
    assert 'class="govuk-error-summary"' not in response.text


async def test_a_subject_access_refusal_names_the_field() -> None:
    hub = (FakeHub().on("decision", "GET", "/subject-access-requests", [])
           .on("decision", "POST", "/subject-access-requests",
               refusal("given_name", "String should have at most 200 characters"), status=422))
    async with workspace(hub, MANAGER, csrf=CSRF) as client:
        response = await client.post("/subject-access", data={
            "csrf_token": CSRF, "family_name": "Turner", "given_name": "K" * 201, "reason": "a letter"})
    assert summary_links(response.text) == [("#given_name", "Given name must be 200 characters or fewer")]


async def test_the_portals_answer_refused_on_an_item_names_that_items_input() -> None:
    request_for = {"enquiry_id": "ENQ-1", "referral_id": "REF-1", "agency": "police", "questions": [],
                   "subjects": [], "due_at": "2026-03-05T09:30:00+00:00", "reminders": 0}
    hub = (FakeHub().on("enquiry", "GET", "/agencies/police/requests/ENQ-1", request_for)
           .on("enquiry", "POST", "/agencies/police/requests/ENQ-1/response",
               refusal("items.0.summary", "String should have at most 5000 characters"), status=422))
    async with workspace(hub, POLICE, csrf=CSRF) as client:
        response = await client.post("/portal/police/requests/ENQ-1", data={
            "csrf_token": CSRF, "outcome": "information_held", "rating": "amber",
            "item-1-summary": "Known to us", "item-1-sensitivity": "non_sensitive"})
    assert ("#item-1-summary", "The description of item 1 must be 5,000 characters or fewer") in summary_links(
        response.text)


async def test_a_permission_answer_refused_on_its_note_names_that_note() -> None:
    asked = {"permission_id": "SAR-1:police:pol-1", "request_id": "SAR-1", "item_id": "pol-1",
             "referral_id": "REF-1", "requested_at": "2026-03-04T09:30:00+00:00", "due_on": "2026-04-04"}
    hub = (FakeHub().on("enquiry", "GET", "/agencies/police/permission-requests", [asked])
           .on("enquiry", "POST", "/agencies/police/permission-requests/SAR-1:police:pol-1",
               refusal("note", "String should have at most 1000 characters"), status=422))
    async with workspace(hub, POLICE, csrf=CSRF) as client:
        response = await client.post("/portal/police/subject-access/SAR-1:police:pol-1",
                                     data={"csrf_token": CSRF, "decision": "refuse", "note": "n" * 1001})
    assert response.status_code == 400
    assert summary_links(response.text) == [("#note-1", "The reason must be 1,000 characters or fewer")]
