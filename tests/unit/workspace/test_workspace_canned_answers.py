"""The workspace's canned service answers are answers the services could give, by their published OpenAPI.

Every canned answer a workspace test registers goes through `FakeHub.on`, which refuses one the owning service
could never give, and every request the workspace sends to an operation canned as a success is checked against
that operation's request body (tests/unit/workspace/published_openapi.py). This module proves the check itself:
the builders' own answers pass, the values the pages send are ones the services publish, and each kind of drift
is caught — a renamed path, a success status the service does not use, a list for an object, a wrong type, an
error body without the hub's `error` (FastAPI's own 422 body among them), a refusal from an operation that
publishes none, and a request the service would refuse. Refusals are checked against the error body every service
publishes (`mash_runtime.http.ErrorBody`), not a copy of it written here.
"""

from __future__ import annotations

from typing import Any

import pytest
from mash_workspace.choices import AGENCY_ANSWERS, CONSENT_CHECKS, OUTCOMES, RATINGS
from mash_workspace.pages.staff import STATES

from tests.unit.workspace.published_openapi import answer_problems, published, request_problems
from tests.unit.workspace.workspace_builders import FakeHub, case_view

pytestmark = pytest.mark.unit


def _enum(service: str, schema_name: str) -> set[str]:
    return set(published(service)["components"]["schemas"][schema_name]["enum"])


def test_the_builders_case_views_are_what_decision_answers() -> None:
    for view in (case_view(), case_view("REF-9", state="awaiting_screening")):
        assert answer_problems("decision", "GET", "/cases/REF-9", 200, view) == []


def test_every_service_publishes_the_hubs_error_body_for_its_refusals() -> None:
    for service in ("intake", "decision", "enquiry", "notify", "insight"):
        document = published(service)
        assert "HTTPValidationError" not in document["components"]["schemas"], service
        refused = [f"{method.upper()} {path}" for path, methods in document["paths"].items()
                   for method, spec in methods.items() if "4XX" in spec["responses"]]
        assert refused, service
        for path, methods in document["paths"].items():
            for spec in methods.values():
                for status in ("422", "4XX", "503"):
                    if status in spec["responses"]:
                        schema = spec["responses"][status]["content"]["application/json"]["schema"]
                        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (service, path, status)
    refusal = {"error": "CaseNotFound", "message": "no case file for REF-1",
               "fields": [{"field": "referral_id", "message": "no case file for REF-1"}]}
    assert answer_problems("decision", "GET", "/cases/REF-1", 404, refusal) == []


def test_the_values_the_pages_send_are_the_ones_the_services_publish() -> None:
    assert {value for value, _ in STATES} <= _enum("decision", "CaseState"), "the queue's state filter"
    assert {value for value, _ in RATINGS} == _enum("decision", "BragRating")
    assert {value for value, _ in OUTCOMES} == _enum("decision", "Outcome")
    assert {value for value, _ in CONSENT_CHECKS} <= _enum("decision", "ConsentStatus")
    answer = published("enquiry")["components"]["schemas"]["AgencyAnswerForm"]["properties"]["outcome"]
    assert {value for value, _ in AGENCY_ANSWERS} == set(answer["enum"])


DRIFTED: list[tuple[str, tuple[str, str, str, int, Any], str]] = [
    ("a path the service no longer publishes",
     ("decision", "GET", "/cases/REF-1/file", 200, case_view()), "publishes no GET /cases/REF-1/file"),
    ("a success status the operation never answers",
     ("decision", "POST", "/cases/REF-1/routing", 200, {"state": "routed"}), "never 200"),
    ("an object where the service returns a list",
     ("decision", "GET", "/queue", 200, {"entries": []}), "is not of type \"array\""),
    ("a wrong type inside the answer",
     ("enquiry", "GET", "/agencies", 200, [{"agency": "police", "display_name": 7}]), "0/display_name"),
    ("a typed report missing its figures",
     ("insight", "GET", "/figures/performance", 200, {}), "is a required property"),
    ("a refusal without the hub's error body",
     ("decision", "GET", "/queue", 401, {"message": "token expired"}), "\"error\" is a required property"),
    ("FastAPI's own 422 body, which no service sends",
     ("decision", "POST", "/cases/REF-1/decision/preview", 422, {"detail": [{"loc": ["body"], "msg": "x"}]}),
     "\"error\" is a required property"),
    ("a refusal from an operation that refuses nothing",
     ("decision", "GET", "/health", 401, {"error": "http_error", "message": "no"}), "never 401"),
]


@pytest.mark.parametrize(("answer", "said"), [(answer, said) for _, answer, said in DRIFTED],
                         ids=[why for why, _, _ in DRIFTED])
def test_a_drifted_canned_answer_is_refused(answer: tuple[str, str, str, int, Any], said: str) -> None:
    problems = answer_problems(*answer)
    assert problems, "the drift went unnoticed"
    assert any(said in problem for problem in problems), problems
    service, method, path, status, body = answer
    with pytest.raises(AssertionError, match="a canned answer the service could never give"):
        FakeHub().on(service, method, path, body, status=status)


def test_a_request_the_service_would_refuse_is_drift() -> None:
    fits = {"outcome": "early_help", "rationale": "Needs support, not protection.", "handoff_item_ids": []}
    assert request_problems("decision", "POST", "/cases/REF-1/decision/preview", fits) == []
    drifted = {**fits, "outcome": "help_early"}
    assert any("outcome" in problem for problem in
               request_problems("decision", "POST", "/cases/REF-1/decision/preview", drifted))
    assert request_problems("notify", "POST", "/previews", {"decision": {"decision_id": "DEC-1"}}), (
        "notify previews only a whole decision")
