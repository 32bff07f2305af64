"""The published OpenAPI says what the server accepts, so that a client that validates against it is not refused.

FastAPI publishes an optional header or query parameter (`str | None`) as "a string or JSON null". A header or
a query string has no null: the parameter is sent or it is absent. A client generating requests from the
document (schemathesis does) sends the text "null", which the server then refuses (too short for an
Idempotency-Key, not one of a filter's values). So each such parameter is published as its non-null schema,
optional as before.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

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
