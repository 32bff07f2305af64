"""HTTP conventions shared by the services: clear JSON errors naming the field, and health checks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mash_schemas import text
from starlette.exceptions import HTTPException as StarletteHTTPException

# A record's identifier in a URL path (a referral, an enquiry, a subject access request), checked where it arrives:
# every identifier the hub issues follows the contract's rule, so anything else is a 422 naming the parameter and is
# never looked up or built into an event (a fuzzed control character in PATCH /contacts/{id} was a 500).
PathIdentifier = Annotated[str, Path(pattern=text.IDENTIFIER_PATTERN)]


class DomainError(Exception):
    """A rule of the practice refused the request; `status` says how (409 conflict, 422, 404...)."""

    status = 409

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


Refusal = tuple[type[Exception], type[DomainError], str | None]
"""How a use case answers one of its domain's refusals: the domain's exception, the DomainError it becomes (its
HTTP status), and the request field at fault (None when no one field is)."""


@contextmanager
def refusals_answered(refusals: Sequence[Refusal]) -> Iterator[None]:
    """Raise the use case's DomainError for a domain refusal raised inside, naming the field at fault.

    A domain knows nothing of HTTP, so each use case lists once, beside its errors, how it answers its domain's
    refusals, and wraps every domain call in this instead of repeating the except clauses. The first entry that
    matches wins: a specific refusal goes before its base class. Anything not listed passes through unchanged.
    """
    try:
        yield
    except Exception as refused:
        for kind, answer, field in refusals:
            if isinstance(refused, kind):
                raise answer(str(refused), field=field) from refused
        raise


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "<body>"


def install_error_handlers(app: FastAPI) -> None:
    """422 lists every field at fault with a message a referrer can act on; no input echoed back."""

    async def on_invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        fields = [
            # A body that is not JSON at all is the body's fault, not a "field" at some character offset.
            {"field": "<body>" if e.get("type") == "json_invalid" else _field_path(tuple(e["loc"])),
             "message": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"error": "invalid_request", "message": "Some fields need correcting.", "fields": fields},
        )

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        body: dict[str, Any] = {"error": type(exc).__name__, "message": exc.message}
        if exc.field:
            body["fields"] = [{"field": exc.field, "message": exc.message}]
        return JSONResponse(status_code=exc.status, content=body)

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        content: dict[str, Any] = {"error": "http_error", "message": exc.detail}
        if exc.status_code == 400:
            content["fields"] = [{"field": "<body>", "message": str(exc.detail)}]  # e.g. a body that is not UTF-8
        return JSONResponse(status_code=exc.status_code, content=content, headers=getattr(exc, "headers", None))

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(StarletteHTTPException, on_http)
