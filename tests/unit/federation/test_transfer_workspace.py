"""The workspace's transfer: the suggestion on the case page, a preview of exactly what will cross, then the
transfer; a transferred case shows where it went, a received one where it came from."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mash_decision.handlers.http import TransferRequest

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit

SCREENER = person("screener", sub="scr-reed")
FORM = {"to_hub": "westshire", "reason": "The family moved to WS3 last month."}
CROSSING = {
    "transfer_id": "eastshire/REF-1", "to_hub": "westshire", "source": "web_form",
    "received_at": "2026-03-04T09:30:00+00:00",
    "referrer": {"name": "Sam Teacher", "role": "designated safeguarding lead"},
    "subjects": [{"subject_id": "S1", "family_name": "Evans"}], "household": [],
    "concern": {"categories": ["neglect"], "narrative": "Often hungry at school."},
    "consent": {"status": "given"},
    "origin": {"hub_id": "eastshire", "hub_name": "Eastshire County Council", "referral_id": "REF-1",
               "transferred_at": "2026-03-04T10:00:00+00:00", "transferred_by": "scr-reed",
               "reason": FORM["reason"], "sending_rating": "amber",
               "shared_findings": [{"agency": "health", "item_id": "gp-1", "basis": "non_sensitive",
                                    "wording": "Mother missed two GP appointments."}],
               "sealed_references": [{"agency": "police", "item_id": "pol-7",
                                      "request_route": "Ask Eastshire police public protection unit"}],
               "history": []},
}


def suggesting(hub: FakeHub) -> FakeHub:
    view: dict[str, Any] = case_view()
    view["transfer_suggestion"] = {"to_hub": "westshire", "to_hub_name": "Westshire County Council",
                                   "postcode": "WS3 1AB", "why": "a subject's postcode WS3 1AB is in Westshire's area"}
    return hub.on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])


async def test_the_case_page_suggests_the_transfer_and_the_preview_shows_exactly_what_crosses() -> None:
    hub = suggesting(FakeHub()).on("decision", "POST", "/cases/REF-1/transfer/preview",
                                   {"referral_id": "REF-1", "transfer": CROSSING})
    async with workspace(hub, SCREENER) as client:
        page = (await client.get("/cases/REF-1")).text
        form_page = (await client.get("/cases/REF-1/transfer")).text
        preview = await client.post("/cases/REF-1/transfer/preview", data={**FORM, "csrf_token": CSRF})

    assert "Transfer to Westshire County Council" in page and 'href="/cases/REF-1/transfer"' in page
    assert 'value="westshire"' in form_page, "the suggested hub is filled in"
    assert preview.status_code == 200
    [previewed] = hub.called("decision", "POST", "/cases/REF-1/transfer/preview")
    assert previewed.body == FORM and previewed.bearer == "token-of-scr-reed"
    TransferRequest.model_validate(previewed.body)
    text = preview.text
    assert "Check what will cross" in text
    assert "health: Mother missed two GP appointments." in text
    assert "police holds information (pol-7): Ask Eastshire police public protection unit" in text
    confirm = text.split('action="/cases/REF-1/transfer"', 1)[1].split("</form>", 1)[0]
    assert dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm)) == {
        **FORM, "csrf_token": CSRF}


async def test_confirming_transfers_and_a_refusal_is_shown_on_the_form() -> None:
    hub = suggesting(FakeHub()).on("decision", "POST", "/cases/REF-1/transfer",
                                   {"referral_id": "REF-1", "state": "transferred", "to_hub": "westshire",
                                    "transfer_id": "eastshire/REF-1"}, status=202)
    async with workspace(hub, SCREENER) as client:
        done = await client.post("/cases/REF-1/transfer", data={**FORM, "csrf_token": CSRF})
        missing = await client.post("/cases/REF-1/transfer", data={"to_hub": "westshire", "reason": "",
                                                                    "csrf_token": CSRF})
    assert (done.status_code, done.headers["location"]) == (303, "/cases/REF-1?done=transferred")
    assert missing.status_code == 200 and "Give the reason for the transfer" in missing.text
    assert len(hub.called("decision", "POST", "/cases/REF-1/transfer")) == 1


async def test_a_transferred_case_shows_its_destination_and_a_received_one_its_origin() -> None:
    sent: dict[str, Any] = case_view(state="transferred")
    sent["case_file"]["transfer"] = {"to_hub": "westshire", "to_hub_name": "Westshire County Council",
                                     "by": "scr-reed", "role": "screener", "at": "2026-03-04T10:00:00+00:00",
                                     "reason": FORM["reason"]}
    received: dict[str, Any] = case_view("REF-2")
    received["case_file"]["referral"]["transferred_from"] = CROSSING["origin"]
    hub = (FakeHub().on("decision", "GET", "/cases/REF-1", sent).on("decision", "GET", "/cases/REF-2", received))
    async with workspace(hub, SCREENER) as client:
        away = (await client.get("/cases/REF-1")).text
        here = (await client.get("/cases/REF-2")).text
    assert "Transferred to Westshire County Council by scr-reed" in away
    assert "Transfer to" not in away.split("Transferred to", 1)[1], "no transfer action on a transferred case"
    assert "Transferred here from Eastshire County Council (their referral REF-1, rated amber there)" in here
