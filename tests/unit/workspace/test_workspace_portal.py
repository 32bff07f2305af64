"""The agency portal: the answer form's checks, and the answer reaching enquiry as the agency's response."""

from __future__ import annotations

from typing import Any

import pytest
from mash_enquiry.domain.portal import AgencyAnswerForm
from mash_workspace.pages.portal import answer_from
from starlette.datastructures import FormData

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, person, workspace

pytestmark = pytest.mark.unit

POLICE = person("agency", agency="police", sub="pc-jones")
REQUEST = {
    "request_id": "REQ-1", "enquiry_id": "ENQ-1", "referral_id": "REF-1", "agency": "police",
    "due_at": "2026-03-05T09:30:00+00:00", "reminder_number": 1, "open": True, "answered": False,
    "lawful_basis": "Children Act 1989 s47", "consent_position": "proceeding without consent: risk of harm",
    "subjects": [{"given_name": "Lily", "family_name": "Evans", "date_of_birth": "2018-06-01"}],
    "household": [{"given_name": "Mark", "family_name": "Doyle", "relationship": "mother's partner"}],
    "questions": ["Is Mark Doyle known to you?"],
}
SENSITIVE_ANSWER = {
    "outcome": "information_held", "rating": "red",
    "item-1-about": "Mark Doyle", "item-1-summary": "Subject of an open investigation for offences against children.",
    "item-1-sensitivity": "sensitive", "item-1-release": "permitted",
    "item-1-permitted_wording": "Police hold information relevant to the household; contact the PPU.",
    "item-2-about": "the family", "item-2-summary": "Two domestic incidents attended in 2025.",
    "item-2-sensitivity": "non_sensitive",
}


def checked(fields: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    return answer_from(FormData(list(fields.items())), errors), errors


def test_nothing_known_is_an_answer_with_no_items() -> None:
    body, errors = checked({"outcome": "nothing_known"})

    assert errors == {}
    assert body == {"outcome": "nothing_known", "rating": None, "items": []}
    AgencyAnswerForm.model_validate(body)


def test_nothing_known_with_items_is_refused_not_silently_dropped() -> None:
    _, errors = checked({"outcome": "nothing_known", "item-1-summary": "Known for shoplifting.",
                         "item-1-sensitivity": "non_sensitive"})

    assert set(errors) == {"outcome"}
    assert "Yes, we hold information" in errors["outcome"]


def test_an_answer_needs_an_outcome() -> None:
    _, errors = checked({})

    assert set(errors) == {"outcome"}


def test_information_held_needs_an_item_and_a_rating() -> None:
    _, errors = checked({"outcome": "information_held"})

    assert errors == {"item-1-summary": "Describe at least one thing your agency knows",
                      "rating": "Give your agency's view of the level of need"}


def test_each_item_says_whether_it_may_be_shared() -> None:
    _, errors = checked({"outcome": "information_held", "rating": "amber", "item-2-summary": "Known to us."})

    assert errors == {"item-2-sensitivity": "Say whether item 2 may be shared or is sensitive"}


def test_a_sensitive_item_permitted_for_release_needs_the_words() -> None:
    _, errors = checked({**SENSITIVE_ANSWER, "item-1-permitted_wording": ""})

    assert errors == {"item-1-permitted_wording": "Give the words in which item 1 may be shared"}


def test_wording_and_release_count_only_for_a_sensitive_item() -> None:
    body, errors = checked({"outcome": "information_held", "rating": "green", "item-1-summary": "Attended A&E once.",
                            "item-1-sensitivity": "non_sensitive", "item-1-release": "permitted",
                            "item-1-permitted_wording": "ignored"})

    assert errors == {}
    assert body["items"] == [{"about": "the family", "summary": "Attended A&E once.", "sensitivity": "non_sensitive",
                              "rating_reason": None, "release_permitted": False, "permitted_wording": None}]


def test_a_good_answer_is_what_enquiry_takes() -> None:
    body, errors = checked(SENSITIVE_ANSWER)

    assert errors == {}
    answer = AgencyAnswerForm.model_validate(body)
    assert [(item.sensitivity.value, item.release_permitted) for item in answer.items] == [
        ("sensitive", True), ("non_sensitive", False)]


async def test_the_portal_lists_only_the_agencys_open_requests() -> None:
    hub = FakeHub().on("enquiry", "GET", "/agencies/police/requests", [REQUEST])
    async with workspace(hub, POLICE) as client:
        response = await client.get("/portal/police")

    assert response.status_code == 200
    assert 'href="/portal/police/requests/ENQ-1"' in response.text
    assert "Reminder 1" in response.text
    [call] = hub.calls
    assert (call.service, call.path, call.bearer) == ("enquiry", "/agencies/police/requests", "token-of-pc-jones")


async def test_an_answer_reaches_enquiry_as_the_agencys_response() -> None:
    hub = FakeHub().on("enquiry", "POST", "/agencies/police/requests/ENQ-1/response",
                       {"enquiry_id": "ENQ-1", "request_id": "REQ-1", "status": "answer_sent"}, status=202)
    async with workspace(hub, POLICE) as client:
        response = await client.post("/portal/police/requests/ENQ-1", data={**SENSITIVE_ANSWER, "csrf_token": CSRF})

    assert response.status_code == 303
    assert response.headers["location"] == "/portal/police?answered=ENQ-1"
    [call] = hub.calls
    assert (call.service, call.method, call.path) == ("enquiry", "POST", "/agencies/police/requests/ENQ-1/response")
    assert call.bearer == "token-of-pc-jones"
    assert call.body == checked(SENSITIVE_ANSWER)[0]


async def test_a_bad_answer_comes_back_with_the_request_and_nothing_is_sent() -> None:
    hub = FakeHub().on("enquiry", "GET", "/agencies/police/requests/ENQ-1", REQUEST)
    async with workspace(hub, POLICE) as client:
        response = await client.post("/portal/police/requests/ENQ-1",
                                     data={"csrf_token": CSRF, "outcome": "information_held",
                                           "item-1-summary": "Known to us."})

    assert response.status_code == 200
    assert "There is a problem" in response.text
    assert 'href="#rating"' in response.text
    assert 'href="#item-1-sensitivity"' in response.text
    assert "Known to us." in response.text, "what was typed is kept"
    assert "Is Mark Doyle known to you?" in response.text
    assert [(call.method, call.path) for call in hub.calls] == [("GET", "/agencies/police/requests/ENQ-1")]


async def test_enquiry_refusing_the_answer_shows_why_on_the_form() -> None:
    hub = (FakeHub().on("enquiry", "GET", "/agencies/police/requests/ENQ-1", REQUEST)
           .on("enquiry", "POST", "/agencies/police/requests/ENQ-1/response", status=409,
               body={"error": "PortalAlreadyAnswered", "message": "police has already answered this request"}))
    async with workspace(hub, POLICE) as client:
        response = await client.post("/portal/police/requests/ENQ-1", data={"csrf_token": CSRF,
                                                                            "outcome": "nothing_known"})

    assert "police has already answered this request" in response.text
    assert 'href="#outcome"' in response.text


async def test_an_answered_request_offers_no_form() -> None:
    hub = FakeHub().on("enquiry", "GET", "/agencies/police/requests/ENQ-1", {**REQUEST, "answered": True})
    async with workspace(hub, POLICE) as client:
        response = await client.get("/portal/police/requests/ENQ-1")

    assert "Your agency has answered this request." in response.text
    assert 'action="/portal/police/requests/ENQ-1"' not in response.text


def test_an_agency_may_give_its_own_safety_scale_and_the_response_carries_it() -> None:
    body, errors = checked({**SENSITIVE_ANSWER, "safety_scale": "3"})
    assert errors == {}
    assert body["safety_scale"] == 3
    answer = AgencyAnswerForm.model_validate(body)
    assert answer.safety_scale == 3
    assert "safety_scale" not in checked(SENSITIVE_ANSWER)[0], "left out, the answer is sent as before"
    assert set(checked({**SENSITIVE_ANSWER, "safety_scale": "12"})[1]) == {"safety_scale"}
