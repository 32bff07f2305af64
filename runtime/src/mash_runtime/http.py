"""HTTP conventions shared by the services: clear JSON errors naming the field, and health checks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mash_schemas import text
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

# A record's identifier in a URL path (a referral, an enquiry, a subject access request), checked where it arrives:
# every identifier the hub issues follows the contract's rule, so anything else is a 422 naming the parameter and is
# never looked up or built into an event (a fuzzed control character in PATCH /contacts/{id} was a 500).
PathIdentifier = Annotated[str, Path(pattern=text.IDENTIFIER_PATTERN)]


class ErrorField(BaseModel):
    """One field at fault in a refused request, and what is wrong with it."""

    field: str = Field(description="The field's dotted path in the request; '<body>' for the body as a whole.")
    message: str


class ErrorBody(BaseModel):
    """The body of every refusal a service sends, whatever refused it (validation, a rule of the practice, sign-in).

    Published in every service's OpenAPI as the body of its 4xx answers (mash_runtime.openapi), in place of
    FastAPI's own `HTTPValidationError`, which no service ever sends; the error handlers below build their bodies
    through it, so the published schema and the answers cannot part.
    """

    error: str = Field(min_length=1, description="What kind of refusal: 'invalid_request', 'http_error', or the "
                                                 "use case's refusal (e.g. 'CaseNotFound').")
    message: str = Field(description="What happened, in words a person can act on; never the input echoed back.")
    fields: list[ErrorField] = Field(default_factory=list, description="The fields at fault; absent when no one "
                                                                      "field is.")

    def content(self) -> dict[str, Any]:
        """The JSON body: `fields` left out when no field is at fault."""
        return self.model_dump(mode="json", exclude_defaults=True)


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
            ErrorField(field="<body>" if e.get("type") == "json_invalid" else _field_path(tuple(e["loc"])),
                       message=e["msg"])
            for e in exc.errors()
        ]
        body = ErrorBody(error="invalid_request", message="Some fields need correcting.", fields=fields)
        return JSONResponse(status_code=422, content=body.content())

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        fields = [ErrorField(field=exc.field, message=exc.message)] if exc.field else []
        body = ErrorBody(error=type(exc).__name__, message=exc.message, fields=fields)
        return JSONResponse(status_code=exc.status, content=body.content())

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        # e.g. a body that is not UTF-8
        fields = [ErrorField(field="<body>", message=str(exc.detail))] if exc.status_code == 400 else []
        body = ErrorBody(error="http_error", message=str(exc.detail), fields=fields)
        return JSONResponse(status_code=exc.status_code, content=body.content(),
                            headers=getattr(exc, "headers", None))

    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(StarletteHTTPException, on_http)
