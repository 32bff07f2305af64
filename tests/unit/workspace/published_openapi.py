"""What each service publishes as its OpenAPI, and whether a canned answer (or a request) fits it.

The workspace's unit tests put canned service answers behind the real app (`FakeHub`). A canned answer the
real service could never give (a renamed path, a success status it does not use, a list where it returns an
object, a field of the wrong type in insight's typed reports) would let a page pass here and fail in the
browser. So every canned answer is checked against the owning service's OpenAPI, as the service publishes it
at `GET /openapi.json`: its real `bootstrap` with in-memory parts builds the app, and `app.openapi()` is that
document. Requests the workspace sends to an operation a canned answer says succeeded are checked against the
operation's request body, since the real service would have refused one that does not fit.

Refusals are checked the same way, against the body the operation publishes for that status (its own, or its
class's `4XX`): every service publishes the hub's one error body there (`mash_runtime.http.ErrorBody`, by
`mash_runtime.openapi.publish_error_body`), and a refusal from an operation that publishes none is drift too.
A 5xx an operation does not publish stands for a service that failed: no contract says what a failure looks like
(an unhandled error is Starlette's plain text), and the workspace shows its problem page whatever the body, so
such an answer is not checked.
"""

from __future__ import annotations

import functools
import importlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
from faststream.kafka import KafkaBroker
from mash_runtime.clock import FixedClock
from mash_runtime.in_memory import no_topics
from mash_runtime.memory_store import MemoryDatabase

SERVICES = ("intake", "decision", "enquiry", "notify", "insight")
_SETTINGS = {"intake": "IntakeSettings", "decision": "DecisionSettings", "enquiry": "EnquirySettings",
             "notify": "NotifySettings", "insight": "InsightSettings"}

@functools.cache
def published(service: str) -> dict[str, Any]:
    """The service's OpenAPI document, from its real bootstrap on in-memory parts (nothing started)."""
    bootstrap = importlib.import_module(f"mash_{service}.bootstrap").bootstrap
    settings_class = getattr(importlib.import_module(f"mash_{service}.settings"), _SETTINGS[service])
    built = bootstrap(settings_class(environment="test"), database=MemoryDatabase(f"openapi-{service}"),
                      broker=KafkaBroker(), clock=FixedClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC)),
                      topic_admin=no_topics)
    document: dict[str, Any] = built.app.openapi()
    return document


@dataclass(frozen=True)
class Operation:
    """One operation a service publishes: its path template and its OpenAPI object."""

    service: str
    method: str
    template: str
    spec: dict[str, Any]


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)) + "$")


def operation(service: str, method: str, path: str) -> Operation | None:
    """The operation `method path` reaches on `service`; a literal path wins over a template, as in FastAPI."""
    paths: dict[str, dict[str, Any]] = published(service)["paths"]
    found = [template for template in paths if method.lower() in paths[template] and _pattern(template).match(path)]
    if not found:
        return None
    template = min(found, key=lambda t: t.count("{"))
    return Operation(service, method.upper(), template, paths[template][method.lower()])


def _errors(schema: dict[str, Any], instance: Any, components: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for({**schema, "components": components})
    return [f"{'/'.join(str(p) for p in error.instance_path) or '<body>'}: {error.message}"
            for error in validator.iter_errors(instance)]


def _json_schema(spec: dict[str, Any]) -> dict[str, Any] | None:
    content = spec.get("content", {})
    if "application/json" not in content:
        return None
    schema: dict[str, Any] = content["application/json"].get("schema", {})
    return schema


def answer_problems(service: str, method: str, path: str, status: int, body: Any) -> list[str]:
    """Why `service` could never answer `method path` with `status` and `body` (empty when it could)."""
    found = operation(service, method, path)
    if found is None:
        return [f"{service} publishes no {method.upper()} {path}"]
    where = f"{service} {found.method} {found.template}"
    documented = found.spec.get("responses", {})
    answer = documented.get(str(status)) or documented.get(f"{status // 100}XX")
    if answer is None and status >= 500:
        return []  # a service that failed: see the module's docstring
    if answer is None:
        return [f"{where} answers {', '.join(documented)}, never {status}"]
    schema = _json_schema(answer)
    if not schema:
        return []
    return [f"{where} {status}: {problem}"
            for problem in _errors(schema, body, published(service).get("components", {}))]


def request_problems(service: str, method: str, path: str, body: Any) -> list[str]:
    """Why `service` would refuse `body` sent to `method path` before any rule of its own ran."""
    found = operation(service, method, path)
    if found is None:
        return [f"{service} publishes no {method.upper()} {path}"]
    schema = _json_schema(found.spec.get("requestBody") or {})
    if schema is None:
        return []
    return [f"{service} {found.method} {found.template} request {problem}"
            for problem in _errors(schema, body, published(service).get("components", {}))]
