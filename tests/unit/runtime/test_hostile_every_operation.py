"""The regression corpus of hostile values, replayed against every operation of every service (issue 22, item 5).

Each value below broke something once or is a classic: blank and no-break-space names (decision's 500), NUL
(stored by intake), other control characters (httpx refused the URL: a 500), right-to-left text, 100,000
characters, script and template injection, a path climbing out. Every operation each service publishes in
its OpenAPI is called through its real bootstrap (in memory) with the value in every path parameter, every
query parameter and every top-level body field, as every role and signed out. No answer may be a 5xx.
Fixed values, no randomness: a failure here is the same failure on every run.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

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


def body_fields(openapi: dict[str, Any], operation: dict[str, Any]) -> list[str] | None:
    """The top-level fields of the operation's JSON body, or None if it takes none."""
    content = (operation.get("requestBody") or {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content.get("schema", {})
    while "$ref" in schema:
        schema = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return list(schema.get("properties", {})) or []


async def replay(hub: RunningService[Any], secret: str) -> dict[str, int]:
    """Every corpus value in every operation as every role; the 5xx found, by request (none expected)."""
    openapi = hub.service.app.openapi()
    server_errors: dict[str, int] = {}
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
            body = json.dumps({name: value for name in fields}).encode() if fields is not None else None
            # The 100,000 characters once, as a manager: the size, not the role, is what it tests.
            for roles in (ROLES if len(value) < 1000 else [[Role.MANAGER]]):
                response = await hub.http.request(
                    method, url, content=body,
                    headers={**bearer(secret, roles), **({"Content-Type": "application/json"} if body else {})})
                sent += 1
                if response.status_code >= 500:
                    server_errors[f"{method} {path} corpus[{index}] as {[r.value for r in roles]}"] = (
                        response.status_code)
    assert sent > len(CORPUS)
    return server_errors


class CorpusScenario:
    """The corpus against one service."""

    async def test_no_hostile_value_is_a_server_error(self, hub: RunningService[Any]) -> None:
        errors = await replay(hub, hub.settings.jwt_secret.get_secret_value())
        assert errors == {}


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
