"""The front door's reasoning on the staff pages (issue 23): the Signs of Safety analysis and the child's voice
on the screening and decision forms, what they send, their errors (GOV.UK error summary), and the case file."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from tests.unit.workspace.test_workspace_concern import summary_links
from tests.unit.workspace.workspace_builders import CSRF, FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit

MANAGER = person("manager", sub="mgr-okafor")
SCREENER = person("screener", sub="scr-jones")
ANALYSIS = {"harm": "Lily came to school hungry three days running.", "strengths": "Her aunt feeds her at weekends.",
            "safety_scale": 5}
VOICE = {"child": {"known": True, "views": "Lily says she likes school dinners."},
         "parents": {"known": False, "not_known_because": "not_yet_possible", "detail": "Mother not yet reached."}}
TYPED = {"harm": ANALYSIS["harm"], "strengths": ANALYSIS["strengths"], "safety_scale": "5",
         "child_known": "yes", "child_views": VOICE["child"]["views"],
         "parents_known": "no", "parents_not_known_because": "not_yet_possible", "parents_detail": "Mother not yet reached."}
DECISION_FORM = {"outcome": "early_help", "rating": "", "receiving_service": "", "rationale": "Needs support.",
                 "handoff_item_ids": []}


def screened_case(**extra: Any) -> dict[str, Any]:
    view = case_view()
    view.update(extra)
    return view


def with_case(hub: FakeHub, view: dict[str, Any] | None = None) -> FakeHub:
    return (hub.on("decision", "GET", "/cases/REF-1", view or case_view())
            .on("decision", "GET", "/cases/REF-1/audit", []))


async def test_screening_sends_the_analysis_and_the_childs_voice() -> None:
    hub = FakeHub().on("decision", "POST", "/cases/REF-1/screening", {"state": "awaiting_decision"})
    async with workspace(hub, SCREENER, csrf=CSRF) as client:
        response = await client.post("/cases/REF-1/screening", data={"csrf_token": CSRF, "rating": "amber", **TYPED})
    assert response.status_code == 303, response.text
    [call] = hub.calls
    assert call.body == {"rating": "amber", "rationale": None, "risk_analysis": ANALYSIS, "childs_voice": VOICE}


async def test_an_analysis_without_its_scale_or_views_half_answered_is_corrected_on_the_page() -> None:
    hub = with_case(FakeHub(), case_view(state="awaiting_screening"))
    form = {**TYPED, "safety_scale": "", "child_views": "", "parents_not_known_because": ""}
    async with workspace(hub, SCREENER, csrf=CSRF) as client:
        response = await client.post("/cases/REF-1/screening", data={"csrf_token": CSRF, "rating": "amber", **form})
    assert response.status_code == 200
    assert [(href, html.unescape(text)) for href, text in summary_links(response.text)] == [
        ("#safety_scale", "Select the safety scale, from 0 to 10"),
        ("#child_views", "Enter the child's wishes and feelings"),
        ("#parents_not_known_because", "Select why the parents' views are not known"),
    ]
    assert ANALYSIS["harm"] in response.text, "what was typed is kept"
    assert not hub.called("decision", "POST", "/cases/REF-1/screening")


async def test_the_decision_form_offers_the_screeners_analysis_to_sanction_and_sends_it_through_the_preview() -> None:
    view = screened_case(risk_analysis=ANALYSIS, childs_voice=VOICE)
    draft = {"decision_id": "DEC-1", "referral_id": "REF-1", "outcome": "early_help", "rating": "amber",
             "receiving_service": "early-help", "rationale": "Needs support.", "decided_by": "mgr-okafor",
             "decided_at": "2026-03-04T14:05:00+00:00", "handoff_items": [], "risk_analysis": ANALYSIS,
             "childs_voice": VOICE, "referral_received_at": "2026-03-04T09:30:00+00:00",
             "referrer": {"name": "Sam Teacher", "role": "designated safeguarding lead"},
             "subjects": [{"subject_id": "S1", "family_name": "Evans"}]}
    hub = (with_case(FakeHub(), view)
           .on("decision", "POST", "/cases/REF-1/decision/preview", {"referral_id": "REF-1", "decision": draft})
           .on("notify", "POST", "/previews", []))
    async with workspace(hub, MANAGER, csrf=CSRF) as client:
        form_page = html.unescape((await client.get("/cases/REF-1/decision")).text)
        assert ANALYSIS["harm"] in form_page
        assert re.search(r'name="safety_scale" type="radio" value="5"\s+checked', form_page)
        assert re.search(r'name="parents_not_known_because" type="radio" value="not_yet_possible"\s+checked',
                         form_page)
        assert 'value="too_young"' in form_page.split('name="parents_known"', 1)[0]  # a reason for the child
        assert 'value="too_young"' not in form_page.split('name="parents_known"', 1)[1]  # never for the parents
        preview = (await client.post("/cases/REF-1/decision/preview",
                                     data={**DECISION_FORM, **TYPED, "csrf_token": CSRF})).text
    assert "5 out of 10" in preview
    [sent] = [call for call in hub.calls if call.path == "/cases/REF-1/decision/preview"]
    assert sent.body["risk_analysis"] == ANALYSIS and sent.body["childs_voice"] == VOICE
    confirm = preview.split('action="/cases/REF-1/decision"', 1)[1].split("</form>", 1)[0]
    hidden = {name: html.unescape(value)
              for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', confirm)}
    assert {name: hidden[name] for name in TYPED} == TYPED


async def test_the_services_refusals_land_on_the_reasoning_inputs() -> None:
    hub = with_case(FakeHub()).on("decision", "POST", "/cases/REF-1/decision/preview", status=422, body={
        "error": "ReasoningMissing", "message": "record the child's voice",
        "fields": [{"field": "childs_voice", "message": "Record whether the child's wishes and feelings are known"},
                   {"field": "risk_analysis_rationale", "message": "Say why you changed the analysis"}]})
    async with workspace(hub, MANAGER, csrf=CSRF) as client:
        response = await client.post("/cases/REF-1/decision/preview", data={**DECISION_FORM, "csrf_token": CSRF})
    assert [href for href, _ in summary_links(response.text)] == ["#child_known", "#risk_analysis_rationale"]
    assert 'id="child_known-error"' in response.text


async def test_the_case_file_shows_the_sanctioned_analysis_the_screeners_version_and_the_childs_voice() -> None:
    changed = {**ANALYSIS, "safety_scale": 3}
    versions = [
        {"analysis": ANALYSIS, "stage": "screening", "by": "scr-jones", "role": "screener",
         "at": "2026-03-04T10:00:00+00:00", "rationale": None},
        {"analysis": changed, "stage": "changed_by_manager", "by": "mgr-okafor", "role": "manager",
         "at": "2026-03-04T12:00:00+00:00", "rationale": "Aunt away for a month."},
    ]
    view = screened_case(risk_analysis=changed, childs_voice=VOICE)
    view["case_file"]["risk_analyses"] = versions
    async with workspace(with_case(FakeHub(), view), MANAGER, csrf=CSRF) as client:
        page = (await client.get("/cases/REF-1")).text
    page = html.unescape(page)
    shown = page.split('data-testid="risk-analysis"', 1)[1]
    assert "Safety scale: 3 out of 10" in shown and "0: harm is certain to happen or happen again" in shown
    assert "Changed and sanctioned by the MASH manager" in page and "Aunt away for a month." in page
    assert "Safety scale: 5 out of 10" in page.split('data-testid="screeners-analysis"', 1)[1]
    voice = page.split('data-testid="childs-voice"', 1)[1]
    assert "Lily says she likes school dinners." in voice
    assert "Not known: not yet possible (Mother not yet reached.)" in voice
