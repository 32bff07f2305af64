"""Quality assurance pages (issue 23): the practice lead's dip sample and audit form, and the audit on the manager's
case page. Decision's answers are canned (checked against its published OpenAPI by FakeHub)."""

from __future__ import annotations

from typing import Any

import pytest
from mash_schemas.quality import PracticeGrade
from mash_workspace.choices import PRACTICE_GRADES

from tests.unit.workspace.published_openapi import published
from tests.unit.workspace.workspace_builders import CSRF, FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit

LEAD = person("practice_lead", sub="priya.practicelead")
SAMPLE = {"week": "2026-W10", "starts": "2026-03-02", "decided_by_outcome": {"early_help": 3},
          "cases": [{"referral_id": "REF-1", "outcome": "early_help", "decided_by": "morgan.manager",
                     "decided_at": "2026-03-04T10:00:00+00:00", "audited": False}]}
DECISION = {"decision_id": "DEC-REF-1", "referral_id": "REF-1", "decided_by": "morgan.manager",
            "decided_at": "2026-03-04T10:00:00+00:00", "rating": "amber", "outcome": "early_help",
            "receiving_service": "early-help", "rationale": "Early help for Lily and her mother."}
AUDIT = {"referral_id": "REF-1", "week": "2026-W10", "outcome": "early_help", "decided_by": "morgan.manager",
         "agrees_with_decision": False, "grade": "requires_improvement", "learning": "Ask the school sooner.",
         "audited_by": "priya.practicelead", "audited_at": "2026-03-06T11:00:00+00:00"}


def decided_view() -> dict[str, Any]:
    view = case_view(state="decided")
    view["case_file"]["decision"] = DECISION
    return view


def sampled() -> dict[str, Any]:
    return {"week": "2026-W10", "case_file": decided_view()["case_file"], "quality_audit": None}


def test_the_grades_offered_are_the_contracts() -> None:
    assert [value for value, _ in PRACTICE_GRADES] == [grade.value for grade in PracticeGrade]
    assert set(published("decision")["components"]["schemas"]["PracticeGrade"]["enum"]) == set(PracticeGrade)


async def test_only_a_practice_lead_reaches_the_dip_sample() -> None:
    for role in ("screener", "manager", "analyst"):
        async with workspace(FakeHub(), person(role)) as client:
            assert (await client.get("/dip-sample")).status_code == 403, role
            assert (await client.get("/dip-sample/cases/REF-1")).status_code == 403, role


async def test_the_practice_lead_lists_the_weeks_sample_and_records_an_audit() -> None:
    hub = (FakeHub().on("decision", "GET", "/quality-assurance/dip-sample", SAMPLE)
           .on("decision", "GET", "/quality-assurance/cases/REF-1", sampled())
           .on("decision", "POST", "/quality-assurance/cases/REF-1/audit", AUDIT, status=201))
    async with workspace(hub, LEAD) as client:
        page = (await client.get("/dip-sample")).text
        assert "2026-W10" in page and 'href="/dip-sample/cases/REF-1"' in page and "To audit" in page
        assert 'href="/dip-sample"' in page  # the navigation's link
        form = (await client.get("/dip-sample/cases/REF-1")).text
        assert "Early help for Lily and her mother." in form and "Requires improvement" in form
        refused = await client.post("/dip-sample/cases/REF-1/audit", data={"csrf_token": CSRF, "learning": ""})
        assert refused.status_code == 422
        assert "govuk-error-summary" in refused.text
        for anchor in ('href="#agrees_with_decision"', 'href="#grade"', 'href="#learning"'):
            assert anchor in refused.text
        assert hub.called("decision", "POST", "/quality-assurance/cases/REF-1/audit") == []
        done = await client.post("/dip-sample/cases/REF-1/audit", data={
            "csrf_token": CSRF, "agrees_with_decision": "false", "grade": "requires_improvement",
            "learning": "Ask the school sooner."})
    assert done.status_code == 303 and done.headers["location"] == "/dip-sample?audited=REF-1"
    sent = hub.called("decision", "POST", "/quality-assurance/cases/REF-1/audit")[0]
    assert sent.body == {"agrees_with_decision": False, "grade": "requires_improvement",
                         "learning": "Ask the school sooner."}
    assert sent.bearer == "token-of-priya.practicelead"


async def test_a_refusal_naming_a_field_is_shown_on_the_form() -> None:
    hub = (FakeHub().on("decision", "GET", "/quality-assurance/cases/REF-1", sampled())
           .on("decision", "POST", "/quality-assurance/cases/REF-1/audit", {
               "error": "conflict", "message": "REF-1 was audited already, by priya.practicelead",
               "fields": [{"field": "referral_id", "message": "REF-1 was audited already"}]}, status=409))
    async with workspace(hub, LEAD) as client:
        refused = await client.post("/dip-sample/cases/REF-1/audit", data={
            "csrf_token": CSRF, "agrees_with_decision": "true", "grade": "good", "learning": "Sound."})
    assert refused.status_code == 422
    assert "audited already" in refused.text and "govuk-error-summary" in refused.text


async def test_the_manager_reads_the_audit_on_the_case_page() -> None:
    hub = (FakeHub().on("decision", "GET", "/cases/REF-1", decided_view())
           .on("decision", "GET", "/cases/REF-1/audit", [])
           .on("decision", "GET", "/quality-assurance/cases/REF-1/audit", AUDIT))
    async with workspace(hub, person("manager")) as client:
        page = (await client.get("/cases/REF-1")).text
    assert "Quality assurance audit" in page and "Ask the school sooner." in page and "Disagrees" in page
