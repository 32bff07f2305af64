"""The regression corpus of hostile values, replayed against every operation of every service (issue 22, item 5).

Each value below broke something once or is a classic: blank and no-break-space names (decision's 500), NUL
(stored by intake), other control characters (httpx refused the URL: a 500), right-to-left text, 100,000
characters, script and template injection, a path climbing out. Every operation each service publishes in
its OpenAPI is called through its real bootstrap (in memory) with the value in every path parameter, every
query parameter and every top-level body field, as every role and signed out. No answer may be a 5xx, and every
refusal (4xx) must be the body the operation publishes for it (mash_runtime.openapi.publish_error_body).
Fixed values, no randomness: a failure here is the same failure on every run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import pytest
from mash_decision.bootstrap import DecisionService
from mash_decision.bootstrap import bootstrap as decision_bootstrap
from mash_decision.settings import DecisionSettings
from mash_enquiry.bootstrap import bootstrap as enquiry_bootstrap
from mash_enquiry.settings import EnquirySettings
from mash_insight.bootstrap import bootstrap as insight_bootstrap
from mash_insight.settings import InsightSettings
from mash_intake.bootstrap import bootstrap as intake_bootstrap
from mash_intake.settings import IntakeSettings
from mash_notify.bootstrap import bootstrap as notify_bootstrap
from mash_notify.settings import NotifySettings
from mash_runtime.auth import Role, issue_token

from tests.support.service_harness import InMemory, RunningService

pytestmark = pytest.mark.unit

# The corpus: what hostile input looks like. Each is replayed everywhere below.
CORPUS = [
    " ", "\u00a0", "\t \u00a0\u3000", "\x00", "Ev\x00ans", "\x1b[31mred", "a\r\nInjected: header", "\x7f\x85\x9b",
    "\u202eevil.exe", "نور الهدى", "<script>alert(1)</script>", "{{7*7}}${7*7}<%= 7*7 %>", "../../../etc/passwd",
    "%00%0A", "' OR '1'='1", "\ud800", "x" * 100_000,
]
ROLES: list[list[Role]] = [[role] for role in Role] + [[]]


def bearer(secret: str, roles: list[Role]) -> dict[str, str]:
    """Signed in with `roles` (an agency user is the police), or signed out for no roles."""
    if not roles:
        return {}
    token = issue_token(secret, "corpus", roles, agency="police" if Role.AGENCY in roles else None)
    return {"Authorization": f"Bearer {token}"}


def operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation the service publishes."""
    return [(method.upper(), path, operation) for path, methods in openapi["paths"].items()
            for method, operation in methods.items() if method in ("get", "post", "put", "patch", "delete")]


def _quoted(value: str) -> str:
    # In the address at most 2,000 characters a value (clients and proxies refuse longer); the body takes it all.
    return quote(value.encode("utf-8", "surrogatepass"), safe="")[:2000]


def _resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:  # `X | None`: the X
        schema = _resolved(openapi, next((s for s in schema["anyOf"] if s.get("type") != "null"), {}))
    return schema


def body_fields(openapi: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The top-level fields of the operation's JSON body with an ordinary value each, or None if it takes none.

    One hostile field among ordinary ones reaches the handler (defect 4 needed a valid reason beside a blank
    name); every field hostile at once is refused by validation before any handler runs.
    """
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = _resolved(openapi, content.get("schema", {}))
    return {name: _ordinary(_resolved(openapi, field)) for name, field in schema.get("properties", {}).items()}


def _ordinary(schema: dict[str, Any]) -> Any:
    """A plain value of the field's type (the first of an enum, a date for a date)."""
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return {"date": "2019-03-27", "date-time": "2026-03-02T09:30:00+00:00", "email": "jo@example.org"}.get(
            str(schema.get("format")), "An ordinary answer")
    return {"boolean": True, "integer": 1, "number": 1, "array": [], "object": {}}.get(str(kind))


def misfit(validators: dict[str, Any], openapi: dict[str, Any], operation: dict[str, Any], status: int,
           body: bytes) -> str | None:
    """Why a refusal is not what the operation publishes for `status` (None when it is).

    `validators` keeps one validator per published schema: thousands of refusals share a few schemas.
    """
    responses = operation.get("responses", {})
    published = responses.get(str(status)) or responses.get(f"{status // 100}XX")
    if published is None:
        return f"{status} is not published"
    schema = published["content"]["application/json"]["schema"]
    key = json.dumps(schema, sort_keys=True)
    if key not in validators:
        validators[key] = jsonschema_rs.validator_for({**schema, "components": openapi["components"]})
    return "; ".join(error.message for error in validators[key].iter_errors(json.loads(body))) or None


async def replay(hub: RunningService[Any], secret: str) -> tuple[dict[str, int], dict[str, str]]:
    """Every corpus value in every operation as every role: the 5xx found (none expected), and the refusals
    that are not what the operation publishes (none expected), by request."""
    openapi = hub.service.app.openapi()
    server_errors: dict[str, int] = {}
    misfits: dict[str, str] = {}
    validators: dict[str, Any] = {}
    sent = 0
    for method, path, operation in operations(openapi):
        parameters = operation.get("parameters", [])
        query_names = [p["name"] for p in parameters if p["in"] == "query"]
        fields = body_fields(openapi, operation)
        for index, value in enumerate(CORPUS):
            url = path
            for parameter in (p for p in parameters if p["in"] == "path"):
                url = url.replace("{" + parameter["name"] + "}", _quoted(value))
            if query_names:  # quoted here: a lone surrogate goes as the bytes a careless client would send
                url += "?" + "&".join(f"{name}={_quoted(value)}" for name in query_names)
            # Every field hostile at once, as every role; then each field alone among ordinary ones, as a manager
            # and as an agency user (the roles that write). The 100,000 characters as a manager only.
            bodies: list[tuple[str, dict[str, Any] | None, list[list[Role]]]] = [
                ("all", {name: value for name in fields} if fields is not None else None,
                 ROLES if len(value) < 1000 else [[Role.MANAGER]])]
            bodies += [(name, {**(fields or {}), name: value}, [[Role.MANAGER], [Role.AGENCY]])
                       for name in (fields or {})]
            for where, body, roles_to_try in bodies:
                content = json.dumps(body).encode() if body is not None else None
                for roles in roles_to_try:
                    response = await hub.http.request(
                        method, url, content=content,
                        headers={**bearer(secret, roles), **({"Content-Type": "application/json"} if content else {})})
                    sent += 1
                    request = f"{method} {path} corpus[{index}] in {where} as {[r.value for r in roles]}"
                    if response.status_code >= 500:
                        server_errors[request] = response.status_code
                    elif response.status_code >= 400:
                        why = misfit(validators, openapi, operation, response.status_code, response.content)
                        if why is not None:
                            misfits[request] = why
    assert sent > len(CORPUS)
    return server_errors, misfits


class CorpusScenario:
    """The corpus against one service."""

    async def test_no_hostile_value_is_a_server_error(self, hub: RunningService[Any]) -> None:
        errors, misfits = await replay(hub, hub.settings.jwt_secret.get_secret_value())
        assert errors == {}
        assert misfits == {}


class TestIntake(InMemory[Any], CorpusScenario):
    bootstrap = staticmethod(intake_bootstrap)
    settings_class = IntakeSettings


class TestDecision(InMemory[DecisionService], CorpusScenario):
    bootstrap = staticmethod(decision_bootstrap)
    settings_class = DecisionSettings


class TestEnquiry(InMemory[Any], CorpusScenario):
    bootstrap = staticmethod(enquiry_bootstrap)
    settings_class = EnquirySettings


class TestNotify(InMemory[Any], CorpusScenario):
    bootstrap = staticmethod(notify_bootstrap)
    settings_class = NotifySettings


class TestInsight(InMemory[Any], CorpusScenario):
    bootstrap = staticmethod(insight_bootstrap)
    settings_class = InsightSettings
