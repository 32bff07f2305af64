"""HTTP routes of the front door: submit a contact, read its status, correct it before screening."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from mash_runtime.auth import Principal, Role, issue_token, require_roles
from mash_runtime.http import DomainError
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

from mash_intake.domain.contact_form import ContactCorrection, ContactSubmission
from mash_intake.front_door import FrontDoor

STATUS_TOKEN_TTL = timedelta(days=30)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200, min_length=8)]


class NotYourContact(DomainError):
    """A referrer's status token is for another contact."""

    status = 403


def _may_see(principal: Principal, referral_id: str) -> None:
    hub_staff = {Role.SCREENER, Role.MANAGER, Role.OPERATIONS}
    if principal.roles & hub_staff:
        return
    if principal.subject != referral_id:
        raise NotYourContact("this token is for another contact")


class RequestSizeLimit(BaseHTTPMiddleware):
    """Refuse oversized bodies before reading them (a contact form is kilobytes, not megabytes)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        super().__init__(app)
        self._max = max_bytes

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self._max:
            return JSONResponse(
                status_code=413,
                content={
                    "error": "request_too_large",
                    "message": f"the body may be at most {self._max} bytes",
                    "fields": [{"field": "<body>", "message": "too large"}],
                },
            )
        return await call_next(request)


def contact_routes(front_door: FrontDoor, jwt_secret: str) -> APIRouter:
    """Routes for referrers (professionals and the public) and hub staff."""
    router = APIRouter(tags=["contacts"])
    reader = require_roles(Role.REFERRER, Role.SCREENER, Role.MANAGER, Role.OPERATIONS)

    @router.post("/contacts", status_code=202, summary="Submit a contact to the hub")
    async def submit_contact(submission: ContactSubmission, idempotency_key: IdempotencyKey = None) -> JSONResponse:
        """Answered 202 only once the contact and its referral event are durably stored.

        Send an `Idempotency-Key` header to make retries safe: the same key returns the same contact.
        """
        referral_id, created = await front_door.accept_contact(submission, idempotency_key, source="api")
        token = issue_token(jwt_secret, referral_id, [Role.REFERRER], STATUS_TOKEN_TTL)
        return JSONResponse(
            status_code=202,
            content={
                "referral_id": referral_id,
                "status": "received",
                "new": created,
                "status_url": f"/contacts/{referral_id}",
                "status_token": token,
            },
        )

    @router.get("/contacts/{referral_id}", summary="Status of a contact (no case detail)")
    async def contact_status(referral_id: str, principal: Principal = reader) -> dict[str, Any]:
        _may_see(principal, referral_id)
        return await front_door.status(referral_id)

    @router.patch("/contacts/{referral_id}", status_code=202, summary="Correct or add to a contact before screening")
    async def correct_contact(
        referral_id: str, correction: ContactCorrection, principal: Principal = reader
    ) -> dict[str, str]:
        _may_see(principal, referral_id)
        await front_door.correct_contact(referral_id, correction)
        return {"referral_id": referral_id, "status": "amended"}

    return router


def install_routes(app: FastAPI, front_door: FrontDoor, jwt_secret: str, max_request_bytes: int) -> None:
    """Mount intake's routes and the size limit."""
    app.add_middleware(RequestSizeLimit, max_bytes=max_request_bytes)
    app.include_router(contact_routes(front_door, jwt_secret))
