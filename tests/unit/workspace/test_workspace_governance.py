"""Information governance pages: subject access requests (start, list, the printable and JSON export) and
"who looked", gathered from every service's own audit API as the signed-in manager (issue 15)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, person, workspace

pytestmark = pytest.mark.unit

MANAGER = person("manager", sub="mgr-okafor")
SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
LISTED = [{"request_id": "SAR-1", "person": {"given_name": "Kai", "family_name": "Turner", "person_ref": "LA-991",
                                             "date_of_birth": None},
           "received_at": "2026-03-02T09:30:00+00:00", "due_on": "2026-04-02", "timing": "overdue",
           "parts_received": ["decision", "intake"], "parts_missing": ["enquiry", "notify", "insight"],
           "complete": False}]
ANSWER: dict[str, Any] = {
    **LISTED[0], "parts_received": list(SERVICES), "parts_missing": [], "complete": True, "timing": "due",
    "reason": "letter of 2 March", "requested_by": "mgr-okafor",
    "items": [{"service": "intake", "item_id": "REF-1", "kind": "contact", "referral_id": "REF-1",
               "recorded_at": "2026-03-02T09:30:00+00:00", "summary": "Contact from a teacher about neglect.",
               "third_parties": ["Sam Reed (referrer)"],
               "redaction_review": ["names other people: Sam Reed (referrer)"]}],
    "withheld": [{"service": "enquiry", "agency": "police", "item_id": "P1", "referral_id": "REF-1",
                  "shown_as": "withheld until police gives permission",
                  "redaction_review": ["sealed item supplied by an agency"], "permission": "awaiting_agency"}],
    "permission_requests": [],
}


def record(service: str, at: str, who: str, action: str, why: str) -> dict[str, Any]:
    return {"at": at, "service": service, "who": who, "roles": "manager", "action": action, "referral_id": "REF-1",
            "why": why, "what": {}}


async def test_only_a_manager_reaches_the_governance_pages() -> None:
    for role in ("screener", "analyst"):
        async with workspace(FakeHub(), person(role)) as client:
            for path in ("/subject-access", "/who-looked", "/subject-access/SAR-1"):
                assert (await client.get(path)).status_code == 403, (role, path)
    async with workspace(FakeHub(), person("agency", agency="police")) as client:
        assert (await client.get("/subject-access")).status_code == 403


async def test_the_list_shows_each_deadline_and_the_form_starts_a_request_with_its_reason() -> None:
    hub = (FakeHub().on("decision", "GET", "/subject-access-requests", LISTED)
           .on("decision", "POST", "/subject-access-requests", {"request_id": "SAR-2"}, status=201))
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/subject-access")).text
        assert "Overdue" in page and "2026-04-02" in page and "waiting for enquiry, notify, insight" in page
        assert 'href="/subject-access"' in page and 'href="/who-looked"' in page
        response = await client.post("/subject-access", data={
            "csrf_token": CSRF, "given_name": "Kai", "family_name": "Turner", "date_of_birth": "",
            "person_ref": "LA-991", "reason": "letter of 2 March"})
    assert response.status_code == 303 and response.headers["location"] == "/subject-access/SAR-2?started=1"
    sent = hub.called("decision", "POST", "/subject-access-requests")[0]
    assert sent.body == {"given_name": "Kai", "family_name": "Turner", "date_of_birth": None, "person_ref": "LA-991",
                         "reason": "letter of 2 March"}
    assert sent.bearer == "token-of-mgr-okafor"


async def test_a_request_without_its_csrf_token_is_refused() -> None:
    hub = FakeHub().on("decision", "POST", "/subject-access-requests", {"request_id": "SAR-2"}, status=201)
    async with workspace(hub, MANAGER) as client:
        response = await client.post("/subject-access", data={"family_name": "Turner", "reason": "letter"})
    assert response.status_code == 403
    assert hub.called("decision", "POST", "/subject-access-requests") == []


async def test_the_answer_is_printable_and_downloadable_with_every_mark() -> None:
    hub = FakeHub().on("decision", "GET", "/subject-access-requests/SAR-1", ANSWER)
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/subject-access/SAR-1")).text
        download = await client.get("/subject-access/SAR-1/export.json")
    assert "Contact from a teacher about neglect." in page
    assert "names other people: Sam Reed (referrer)" in page
    assert "Withheld until police gives permission" in page
    assert 'href="/subject-access/SAR-1/export.json"' in page
    assert download.json() == ANSWER
    assert download.headers["content-disposition"] == 'attachment; filename="SAR-1.json"'
    # Each read is an export decision audits, with the reason the page gives.
    reasons = [(c.params["reason"], c.params["format"]) for c in hub.called("decision", "GET",
                                                                           "/subject-access-requests/SAR-1")]
    assert reasons == [("reviewing the answer", "html"), ("exported as JSON", "json")]


async def test_who_looked_gathers_every_services_audit_as_the_manager_in_time_order() -> None:
    hub = FakeHub().on("decision", "GET", "/people/LA-991/referrals", {"person_ref": "LA-991",
                                                                       "referral_ids": ["REF-1"]})
    hub.on("decision", "GET", "/audit", [record("decision", "2026-03-02T10:00:00+00:00", "Ann", "view_case_file",
                                                "screening")])
    hub.on("enquiry", "GET", "/audit", [record("enquiry", "2026-03-02T09:45:00+00:00", "Max",
                                               "view_enquiry_progress", "chasing police")])
    for service in ("intake", "notify", "insight"):
        hub.on(service, "GET", "/audit", [])
    query = {"person_ref": "LA-991", "from": "2026-03-01", "to": "2026-03-31", "reason": "complaint C-17"}
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/who-looked", params=query)).text
        exported = await client.get("/who-looked/export.csv", params=query)
    assert page.index("chasing police") < page.index("screening")  # oldest first, across services
    assert "2 records" in page
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows == [["at", "service", "who", "roles", "action", "referral_id", "why"],
                    ["2026-03-02T09:45:00+00:00", "enquiry", "Max", "manager", "view_enquiry_progress", "REF-1",
                     "chasing police"],
                    ["2026-03-02T10:00:00+00:00", "decision", "Ann", "manager", "view_case_file", "REF-1",
                     "screening"]]
    for service in SERVICES:
        calls = hub.called(service, "GET", "/audit")
        assert len(calls) == 2 and all(c.bearer == "token-of-mgr-okafor" for c in calls)
        assert calls[0].params == {"referral_id": "REF-1", "from": "2026-03-01", "to": "2026-03-31",
                                   "person_ref": "LA-991", "reason": "complaint C-17"}


async def test_who_looked_shows_the_form_alone_until_asked() -> None:
    hub = FakeHub()
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/who-looked")).text
    assert "Show the report" in page and 'data-testid="audit"' not in page
    assert hub.calls == []


ASKED = [{"permission_id": "SAR-1:police:P1", "request_id": "SAR-1", "agency": "police", "item_id": "P1",
          "referral_id": "REF-1", "requested_at": "2026-03-02T09:30:00+00:00", "due_on": "2026-04-02",
          "status": "awaiting_agency"}]


async def test_the_agency_sees_its_permission_requests_and_permits_one() -> None:
    police = person("agency", agency="police", sub="pc-reed")
    hub = (FakeHub().on("enquiry", "GET", "/agencies/police/permission-requests", ASKED)
           .on("enquiry", "POST", "/agencies/police/permission-requests/SAR-1:police:P1",
               {"permission_id": "SAR-1:police:P1", "status": "permitted"}))
    async with workspace(hub, police) as client:
        page = (await client.get("/portal/police/subject-access")).text
        assert "Your item P1" in page and "2026-04-02" in page and "Permit release" in page
        response = await client.post("/portal/police/subject-access/SAR-1:police:P1",
                                     data={"csrf_token": CSRF, "decision": "permit", "note": ""})
        assert response.status_code == 303
        assert response.headers["location"] == "/portal/police/subject-access?answered=permit"
        assert (await client.get("/portal/health/subject-access")).status_code == 403
    sent = hub.called("enquiry", "POST", "/agencies/police/permission-requests/SAR-1:police:P1")
    assert [c.body for c in sent] == [{"permitted": True, "note": None}]
    assert {c.bearer for c in hub.calls} == {"token-of-pc-reed"}
    assert hub.called("enquiry", "GET", "/agencies/health/permission-requests") == []


async def test_a_refusal_carries_the_agencys_reason_and_needs_the_csrf_token() -> None:
    police = person("agency", agency="police")
    hub = FakeHub().on("enquiry", "POST", "/agencies/police/permission-requests/SAR-1:police:P1",
                       {"permission_id": "SAR-1:police:P1", "status": "refused"})
    async with workspace(hub, police) as client:
        forged = await client.post("/portal/police/subject-access/SAR-1:police:P1", data={"decision": "refuse"})
        assert forged.status_code == 403
        await client.post("/portal/police/subject-access/SAR-1:police:P1",
                          data={"csrf_token": CSRF, "decision": "refuse", "note": "live investigation"})
    sent = hub.called("enquiry", "POST", "/agencies/police/permission-requests/SAR-1:police:P1")
    assert [c.body for c in sent] == [{"permitted": False, "note": "live investigation"}]


EXTENSION = {"reason": "Complex: five services and three agencies", "by": "Mo Okafor", "at": "2026-03-12T10:00:00Z",
             "original_due_on": "2026-04-02"}


async def test_a_manager_extends_the_deadline_with_a_reason_and_the_pages_show_it() -> None:
    hub = (FakeHub().on("decision", "GET", "/subject-access-requests/SAR-1", ANSWER)
           .on("decision", "POST", "/subject-access-requests/SAR-1/extension",
               {**LISTED[0], "due_on": "2026-06-02", "timing": "due", "extension": EXTENSION}))
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/subject-access/SAR-1")).text
        assert "Extend the deadline" in page and 'action="/subject-access/SAR-1/extension"' in page
        response = await client.post("/subject-access/SAR-1/extension",
                                     data={"csrf_token": CSRF, "reason": EXTENSION["reason"]})
        assert response.status_code == 303 and response.headers["location"] == "/subject-access/SAR-1?extended=1"
        forged = await client.post("/subject-access/SAR-1/extension", data={"reason": "no token"})
        assert forged.status_code == 403
    sent = hub.called("decision", "POST", "/subject-access-requests/SAR-1/extension")
    assert [(c.body, c.bearer) for c in sent] == [({"reason": EXTENSION["reason"]}, "token-of-mgr-okafor")]

    extended = {**ANSWER, "due_on": "2026-06-02", "extension": EXTENSION}
    hub.on("decision", "GET", "/subject-access-requests/SAR-1", extended)
    hub.on("decision", "GET", "/subject-access-requests", [{**LISTED[0], "due_on": "2026-06-02", "timing": "due",
                                                            "extension": EXTENSION}])
    async with workspace(hub, MANAGER) as client:
        page = (await client.get("/subject-access/SAR-1", params={"extended": "1"})).text
        listing = (await client.get("/subject-access")).text
    assert "Deadline extended to 2026-06-02" in page and "Extended" in page
    assert "by Mo Okafor, from 2026-04-02: Complex: five services and three agencies" in page
    assert 'action="/subject-access/SAR-1/extension"' not in page  # once only: no second form
    assert "2026-06-02" in listing and "Extended" in listing and "from 2026-04-02" in listing


async def test_an_extension_without_a_reason_or_refused_by_the_service_shows_the_error_summary() -> None:
    hub = (FakeHub().on("decision", "GET", "/subject-access-requests/SAR-1", ANSWER)
           .on("decision", "POST", "/subject-access-requests/SAR-1/extension",
               {"error": "ExtensionRefused", "message": "the request was due on 2026-04-02: an extension must be "
                                                        "made, and the person told, within the first month"},
               status=409))
    async with workspace(hub, MANAGER) as client:
        missing = await client.post("/subject-access/SAR-1/extension", data={"csrf_token": CSRF, "reason": " "})
        refused = await client.post("/subject-access/SAR-1/extension",
                                    data={"csrf_token": CSRF, "reason": "Complex request"})
    assert missing.status_code == 422
    assert "There is a problem" in missing.text and 'href="#reason"' in missing.text
    assert "Enter why the request needs two further months" in missing.text
    assert len(hub.called("decision", "POST", "/subject-access-requests/SAR-1/extension")) == 1
    assert refused.status_code == 409
    assert "There is a problem" in refused.text and 'href="#extension"' in refused.text
    assert "The deadline was not extended: the request was due on 2026-04-02" in refused.text
    assert "Complex request" in refused.text  # what was typed is kept
