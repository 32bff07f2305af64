"""The published OpenAPI says what the server accepts, so that a client that validates against it is not refused.

FastAPI publishes an optional header or query parameter (`str | None`) as "a string or JSON null". A header or
a query string has no null: the parameter is sent or it is absent. A client generating requests from the
document (schemathesis does) sends the text "null", which the server then refuses (too short for an
Idempotency-Key, not one of a filter's values). So each such parameter is published as its non-null schema,
optional as before.

FastAPI also publishes a 422 body of its own (`HTTPValidationError`, `{"detail": [...]}`) that no service sends:
every refusal is `mash_runtime.http.ErrorBody` (`{"error", "message", "fields"}`). So the document publishes that
body instead, for the 422 FastAPI declares and as every refusal (`4XX`) of an operation that can refuse at all: one
that takes parameters or a body, or asks the caller to sign in. The health checks take nothing and refuse nothing.
An operation that asks the caller to sign in also publishes the 503 it answers, in the same body, when the
identity provider cannot be reached to check the token (mash_runtime.auth.require_roles).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mash_runtime.http import ErrorBody

_PLAIN_PARAMETERS = {"header", "query", "path", "cookie"}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    branches = schema.get("anyOf")
    if not isinstance(branches, list):
        return schema
    kept = [branch for branch in branches if branch != {"type": "null"}]
    if len(kept) != 1 or len(kept) == len(branches):
        return schema
    rest = {k: v for k, v in schema.items() if k not in {"anyOf", "default"} or (k == "default" and v is not None)}
    return {**rest, **kept[0]}


def publish_absent_not_null(app: FastAPI) -> None:
    """Publish optional plain parameters as absent-or-valid instead of null-or-valid."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for path in document.get("paths", {}).values():
            for operation in path.values():
                for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                    if parameter.get("in") in _PLAIN_PARAMETERS and not parameter.get("required"):
                        parameter["schema"] = _without_null(parameter.get("schema", {}))
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


_REFERENCE = "#/components/schemas/{model}"
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")


def _refuses(operation: dict[str, Any]) -> bool:
    """Whether an operation can refuse a request: it takes something, or it asks the caller to sign in."""
    return bool(operation.get("parameters") or operation.get("requestBody") or operation.get("security"))


def publish_error_body(app: FastAPI) -> None:
    """Publish the hub's one error body (ErrorBody) as every operation's refusal, in place of FastAPI's 422."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
        error_schema = ErrorBody.model_json_schema(ref_template=_REFERENCE)
        schemas.update(error_schema.pop("$defs", {}))
        schemas[ErrorBody.__name__] = error_schema
        content = {"application/json": {"schema": {"$ref": _REFERENCE.format(model=ErrorBody.__name__)}}}
        for path in document.get("paths", {}).values():
            for operation in path.values():
                if not isinstance(operation, dict) or not _refuses(operation):
                    continue
                responses: dict[str, Any] = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = {"description": "The request's fields at fault", "content": content}
                responses["4XX"] = {"description": "Refused: why, and the fields at fault if any", "content": content}
                if operation.get("security"):
                    responses["503"] = {"description": "Sign-in cannot be checked now: the identity provider does "
                                                       "not answer", "content": content}
        for unused in _FASTAPI_422:
            schemas.pop(unused, None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
