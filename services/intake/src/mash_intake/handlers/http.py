"""HTTP routes of the front door: submit a contact, read its status, correct it; record a consultation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header
from fastapi.responses import JSONResponse
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, issue_token, require_roles
from mash_runtime.http import DomainError, PathIdentifier
from mash_runtime.roles import Role
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mash_intake.domain.consultation import ConsultationSubmission
from mash_intake.domain.contact_form import ContactCorrection, ContactSubmission
from mash_intake.front_door import FrontDoor
from mash_intake.rate_limit import ContactRateLimit

STATUS_TOKEN_TTL = timedelta(days=30)
# Visible ASCII only: HTTP trims a header's surrounding blanks, so a key with them would not be the key sent.
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", max_length=200, min_length=8, pattern=r"^[!-~]{8,200}$")
]
# How the contact reached the hub, as the caller says: the hub's own report-a-concern pages send "web_form";
# any other caller is an "api" client. Police notifications arrive by event, never over HTTP. It is a label for
# the figures (insight counts contacts by it), not a permission, so a caller may set it without signing in.
ContactChannel = Annotated[Literal["web_form", "api"], Header(alias="Contact-Channel")]


class NotYourContact(DomainError):
    """A referrer's status token is for another contact."""

    status = 403


def _may_see(principal: Principal, referral_id: str) -> None:
    hub_staff = {Role.SCREENER, Role.MANAGER, Role.OPERATIONS}
    if principal.roles & hub_staff:
        return
    if principal.subject != referral_id:
        raise NotYourContact("this token is for another contact")


class RequestSizeLimit:
    """Refuse oversized bodies (a contact form is kilobytes, not megabytes), declared or streamed.

    A declared Content-Length over the limit is refused before anything is read. A body sent without
    one (chunked transfer encoding) is read here up to the limit and refused as soon as it goes over,
    so no route ever holds more than the limit in memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self._max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit():
            # The server holds the body to its declared length; only the declaration needs checking.
            if int(length) > self._max:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break  # the client went away; the app sees that too
            size += len(message.get("body", b""))
            if size > self._max:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(received)

        async def receive_again() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, receive_again, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            status_code=413,
            content={
                "error": "request_too_large",
                "message": f"the body may be at most {self._max} bytes",
                "fields": [{"field": "<body>", "message": "too large"}],
            },
        )
        await response(scope, receive, send)


def contact_routes(front_door: FrontDoor, audit: AuditLog, jwt_secret: str) -> APIRouter:
    """Routes for referrers (professionals and the public) and hub staff."""
    router = APIRouter(tags=["contacts"])
    reader = require_roles(Role.REFERRER, Role.SCREENER, Role.MANAGER, Role.OPERATIONS)

    @router.post("/contacts", status_code=202, summary="Submit a contact to the hub")
    async def submit_contact(
        submission: ContactSubmission, idempotency_key: IdempotencyKey = None, channel: ContactChannel = "api"
    ) -> JSONResponse:
        """Answered 202 only once the contact and its referral event are durably stored.

        Send an `Idempotency-Key` header to make retries safe: the same key returns the same contact. The hub's
        own pages send `Contact-Channel: web_form`; any other caller is recorded as an `api` client.
        """
        referral_id, created = await front_door.accept_contact(submission, idempotency_key, source=channel)
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
    async def contact_status(referral_id: PathIdentifier, principal: Principal = reader) -> dict[str, Any]:
        _may_see(principal, referral_id)
        status = await front_door.status(referral_id)
        # The referrer reads their own contact's status and outcome; staff read it for the desk. Either way a
        # view of case information, so it is audited like every other (after the read: no record for a 404).
        referrer = principal.subject == referral_id and not principal.roles & {Role.SCREENER, Role.MANAGER,
                                                                                Role.OPERATIONS}
        await audit.record(who=principal, action="view_contact_status", referral_id=referral_id,
                           why="the referrer checking their contact" if referrer else "hub staff checking a contact")
        return status

    @router.patch("/contacts/{referral_id}", status_code=202, summary="Correct or add to a contact before screening")
    async def correct_contact(
        referral_id: PathIdentifier, correction: ContactCorrection, principal: Principal = reader
    ) -> dict[str, str]:
        _may_see(principal, referral_id)
        await front_door.correct_contact(referral_id, correction)
        return {"referral_id": referral_id, "status": "amended"}

    return router


def consultation_routes(front_door: FrontDoor) -> APIRouter:
    """Hub staff record the advice they gave a partner who asked before deciding whether to refer."""
    router = APIRouter(tags=["consultations"])
    staff = require_roles(Role.SCREENER, Role.MANAGER)

    @router.post("/consultations", status_code=202, summary="Record a consultation (advice given, no referral)")
    async def record_consultation(
        submission: ConsultationSubmission, idempotency_key: IdempotencyKey = None, principal: Principal = staff
    ) -> dict[str, Any]:
        """Answered 202 once the consultation and its consultation.recorded event are durably stored."""
        consultation_id, created = await front_door.record_consultation(
            submission, idempotency_key, principal.name or principal.subject
        )
        return {"consultation_id": consultation_id, "new": created}

    return router


def install_routes(
    app: FastAPI, front_door: FrontDoor, audit: AuditLog, jwt_secret: str, max_request_bytes: int,
    contacts_per_minute: float = 60.0, contacts_burst: int = 30,
) -> None:
    """Mount intake's routes, the size limit and the public endpoint's per-client rate limit (checked first)."""
    app.add_middleware(RequestSizeLimit, max_bytes=max_request_bytes)
    app.add_middleware(ContactRateLimit, path="/contacts", per_minute=contacts_per_minute, burst=contacts_burst)
    app.include_router(contact_routes(front_door, audit, jwt_secret))
    app.include_router(consultation_routes(front_door))
