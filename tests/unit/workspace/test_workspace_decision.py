"""The decision: preview exactly what will be sent (decision's draft, then notify's messages), then decide."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mash_decision.handlers.http import DecisionRequest

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, case_view, choice, offering, person, workspace

pytestmark = pytest.mark.unit

MANAGER = person("manager", sub="mgr-okafor")
FORM = {"outcome": "early_help", "rating": "", "receiving_service": "", "rationale": "Needs support, not protection.",
        "handoff_item_ids": ["education:E1", "police:P1"]}
DRAFT = {
    "decision_id": "DEC-1", "referral_id": "REF-1", "outcome": "early_help", "rating": "amber",
    "receiving_service": "early-help", "rationale": "Needs support, not protection.", "decided_by": "mgr-okafor",
    "decided_at": "2026-03-04T14:05:00+00:00", "handoff_items": [],
    "referral_received_at": "2026-03-04T09:30:00+00:00",
    "referrer": {"name": "Sam Teacher", "role": "designated safeguarding lead", "agency": "Hill School"},
    "subjects": [{"subject_id": "S1", "kind": "child", "given_name": "Lily", "family_name": "Evans"}],
}
MESSAGES = [
    {"kind": "handoff", "addressee": "early-help", "channel": "email", "recipient": "Early Help Hub",
     "subject": "MASH hand-off REF-1: early help", "body": "Lily Evans (born 1 June 2018)\nPolice: contact the PPU."},
    {"kind": "referrer_feedback", "addressee": "referrer", "channel": "email", "recipient": "Priya Shah",
     "subject": "Your referral REF-1", "body": "Thank you. The family has been offered early help."},
]


def previewing(hub: FakeHub, draft: dict[str, Any] | None = None) -> FakeHub:
    return (hub.on("decision", "POST", "/cases/REF-1/decision/preview", {"referral_id": "REF-1",
                                                                           "decision": draft or DRAFT})
            .on("notify", "POST", "/previews", MESSAGES))


def with_case(hub: FakeHub) -> FakeHub:
    view = offering(case_view(), choice("education:E1", "Attendance 71%."),
                    choice("police:P1", "Open investigation.", sealed=True, release_wording="Known to police."))
    return hub.on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])


async def test_the_preview_asks_decision_for_the_draft_then_notify_for_the_messages() -> None:
    hub = previewing(FakeHub())
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={**FORM, "csrf_token": CSRF})

    assert response.status_code == 200
    drafted, previewed = hub.calls
    assert (drafted.service, drafted.method, drafted.path) == ("decision", "POST", "/cases/REF-1/decision/preview")
    assert drafted.body == {"outcome": "early_help", "receiving_service": None, "rating": None,
                            "rationale": "Needs support, not protection.",
                            "handoff_item_ids": ["education:E1", "police:P1"]}
    DecisionRequest.model_validate(drafted.body)
    assert (previewed.service, previewed.method, previewed.path) == ("notify", "POST", "/previews")
    assert previewed.body == {"decision": DRAFT}, "notify previews exactly the decision that would be recorded"
    assert drafted.bearer == previewed.bearer == "token-of-mgr-okafor"

    page = response.text
    assert "Check what will be sent" in page
    for message in MESSAGES:
        assert message["subject"] in page
        assert message["body"] in page
    assert re.search(r'class="govuk-tag govuk-tag--orange">Amber<', page), "the rating the draft settled on"


async def test_confirming_sends_exactly_what_was_previewed() -> None:
    hub = previewing(FakeHub())
    async with workspace(hub, MANAGER) as client:
        page = (await client.post("/cases/REF-1/decision/preview", data={**FORM, "csrf_token": CSRF})).text

    form = page.split('action="/cases/REF-1/decision"', 1)[1].split("</form>", 1)[0]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    posted: dict[str, Any] = {}
    for name, value in fields:
        if name == "handoff_item_ids":
            posted.setdefault(name, []).append(value)
        else:
            posted[name] = value
    assert posted == {**FORM, "csrf_token": CSRF}

    hub = FakeHub().on("decision", "POST", "/cases/REF-1/decision",
                       {"referral_id": "REF-1", "decision_id": "DEC-1"}, status=202)
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision", data=posted)

    assert response.status_code == 303
    assert response.headers["location"] == "/cases/REF-1?done=decided"
    [call] = hub.calls
    assert call.body == {"outcome": "early_help", "receiving_service": None, "rating": None,
                         "rationale": "Needs support, not protection.",
                         "handoff_item_ids": ["education:E1", "police:P1"]}


async def test_a_preview_without_outcome_or_rationale_asks_for_them_and_asks_nobody_else() -> None:
    hub = with_case(FakeHub())
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={"csrf_token": CSRF})

    page = response.text
    assert 'href="#outcome"' in page and "Select the outcome" in page
    assert 'href="#rationale"' in page and "Give the reason for the decision" in page
    assert not hub.called("decision", "POST", "/cases/REF-1/decision/preview")
    assert not hub.called("notify", "POST", "/previews")


async def test_decisions_field_refusal_is_shown_on_that_field() -> None:
    hub = with_case(FakeHub()).on("decision", "POST", "/cases/REF-1/decision/preview", status=422, body={
        "error": "invalid_request", "message": "Some fields need correcting.",
        "fields": [{"field": "rationale", "message": "String should have at most 4000 characters"}]})
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={**FORM, "csrf_token": CSRF})

    page = response.text
    assert "There is a problem" in page
    assert 'href="#rationale"' in page
    assert 'id="rationale-error"' in page
    assert "The reason for the decision must be 4,000 characters or fewer" in page  # GOV.UK words, not pydantic's
    assert "Needs support, not protection." in page, "the manager's words are kept"
    assert re.search(r'value="education:E1"\s+checked', page)
    assert not hub.called("notify", "POST", "/previews")


async def test_decisions_rule_refusal_is_shown_on_the_form() -> None:
    hub = with_case(FakeHub()).on("decision", "POST", "/cases/REF-1/decision/preview", status=409, body={
        "error": "DeskRefused", "message": "police:P9 is not an item of this case file"})
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={**FORM, "csrf_token": CSRF})

    assert 'href="#outcome"' in response.text
    assert "police:P9 is not an item of this case file" in response.text
    assert not hub.called("notify", "POST", "/previews")


async def test_notify_refusing_the_preview_is_shown_and_nothing_is_decided() -> None:
    hub = with_case(previewing(FakeHub())).on("notify", "POST", "/previews", status=422,
                                              body={"error": "invalid_request", "message": "unknown receiving service"})
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={**FORM, "csrf_token": CSRF})

    assert "unknown receiving service" in response.text
    assert not hub.called("decision", "POST", "/cases/REF-1/decision")


async def test_the_decision_form_offers_the_hand_off_candidates_and_marks_a_sealed_one() -> None:
    view = offering(case_view(), choice("police:P1", "Open investigation.", sealed=True))
    view["case_file"]["enquiry_outcome"] = {"findings": [], "not_answered": [], "sealed": [{
        "agency": "police", "item": {"item_id": "P1", "about": "Mark Doyle", "summary": "Open investigation.",
                                     "sensitivity": "sensitive",
                                     "release": {"permitted": False, "request_route": "ask the PPU"}}}]}
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/cases/REF-1/decision")

    assert response.status_code == 200
    assert 'value="police:P1"' in response.text
    assert "Sensitive: police has not permitted release" in response.text
    assert [call.path for call in hub.calls] == ["/cases/REF-1", "/cases/REF-1/audit"]
    assert hub.calls[0].params == {"reason": "screening and decision"}


async def test_an_item_decision_withholds_is_listed_apart_never_as_a_box_to_tick() -> None:
    view = offering(case_view(), choice("education:E1", "Attendance 71%."))
    view["withheld_items"] = [{"key": "police:P1", "agency": "police", "item_id": "P1", "request_route": "ask the PPU"}]
    view["case_file"]["enquiry_outcome"] = {"findings": [], "not_answered": [], "sealed": [{
        "agency": "police", "item": {"item_id": "P1", "about": "Mark Doyle", "summary": "Open investigation.",
                                     "sensitivity": "sensitive",
                                     "release": {"permitted": False, "request_route": "ask the PPU"}}}]}
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/cases/REF-1/decision")

    assert response.status_code == 200
    assert 'value="education:E1"' in response.text
    assert 'value="police:P1"' not in response.text
    assert "Open investigation." not in response.text.split("Not offered for the hand-off")[1]
    assert "Police holds sensitive information it has not permitted to leave the hub" in response.text
    assert "how to request it: ask the PPU" in response.text


async def test_the_candidates_are_labelled_by_decision_not_rebuilt_from_the_case_file() -> None:
    view = offering(case_view(), choice("education:E1", "Attendance 71%."),
                    choice("police:P1", "Open investigation.", sealed=True, release_wording="Known to police."))
    assert view["case_file"]["enquiry_outcome"] is None, "the case file names no item: only decision's labels can"
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/cases/REF-1/decision")).text

    assert "Education: Attendance 71%." in page and "Shareable" in page
    assert "Police: Open investigation." in page
    assert "Sensitive: police permits it as “Known to police.”" in page
