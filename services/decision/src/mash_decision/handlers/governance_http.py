"""Decision's governance routes: legal holds and subject access requests, a MASH manager's only.

Legal holds over HTTP: a MASH manager places or lifts one, with a reason, and every service hears of it.

A hold stops the retention sweepers erasing a referral's records (a case under review, a complaint, a
learning review) until it is lifted. Placing and lifting are audited; the hold travels on `legal.hold` so
each service keeps it locally (mash_runtime.governance).

Subject access over HTTP: a manager starts a request (with a reason), extends its deadline (with the reason
the person is told), lists them, exports the answer.

Only a manager: an agency user, an analyst or a screener is refused (403). Every call is audited by the desk.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.clock import Clock
from mash_runtime.governance import Governance
from mash_runtime.http import DomainError, PathIdentifier
from mash_schemas import text
from mash_schemas.governance import HoldReason, LegalHold
from mash_schemas.subject_access import PersonIdentifiers
from mash_schemas.text import Reason, ShortText
from pydantic import BaseModel, ConfigDict

from mash_decision.subject_access_desk import SubjectAccessDesk

Note = text.Note3


class NoHoldToLift(DomainError):
    """There is no legal hold placed on this referral."""

    status = 409


class PlaceHoldRequest(BaseModel):
    """Why the records must be kept: the kind of review and a note (no case content)."""

    model_config = ConfigDict(extra="forbid")

    reason: HoldReason
    note: Note


class LiftHoldRequest(BaseModel):
    """Why the hold is no longer needed."""

    model_config = ConfigDict(extra="forbid")

    note: Note


def install_hold_routes(app: FastAPI, governance: Governance, clock: Clock) -> None:
    """Mount the legal-hold routes (managers only)."""
    router = APIRouter(tags=["legal holds"])
    managers = require_roles(Role.MANAGER)

    def who(principal: Principal) -> str:
        return principal.name or principal.subject

    @router.get("/cases/{referral_id}/legal-hold", summary="The legal hold on a referral, if one is placed")
    async def current(referral_id: PathIdentifier, _: Principal = managers) -> dict[str, Any]:
        hold = await governance.held(referral_id)
        return hold.model_dump(mode="json") if hold else {"referral_id": referral_id, "state": "none"}

    @router.post("/cases/{referral_id}/legal-hold", status_code=201,
                 summary="Place a legal hold: nothing of the referral is erased until it is lifted (audited)")
    async def place(referral_id: PathIdentifier, request: PlaceHoldRequest,
                    principal: Principal = managers) -> dict[str, Any]:
        hold = LegalHold(referral_id=referral_id, state="placed", reason=request.reason, note=request.note,
                         by=who(principal), at=clock())
        await governance.change_hold(hold, principal)
        return hold.model_dump(mode="json")

    @router.post("/cases/{referral_id}/legal-hold/lift", summary="Lift the legal hold (audited)")
    async def lift(referral_id: PathIdentifier, request: LiftHoldRequest,
                   principal: Principal = managers) -> dict[str, Any]:
        placed = await governance.held(referral_id)
        if placed is None:
            raise NoHoldToLift(f"no legal hold is placed on {referral_id}", field="referral_id")
        hold = LegalHold(referral_id=referral_id, state="lifted", reason=placed.reason, note=request.note,
                         by=who(principal), at=clock())
        await governance.change_hold(hold, principal)
        return hold.model_dump(mode="json")

    app.include_router(router)


class SubjectAccessBody(BaseModel):
    """The person's identifiers and why the request is made."""

    model_config = ConfigDict(extra="forbid")

    given_name: ShortText | None = None
    family_name: ShortText
    date_of_birth: date | None = None
    person_ref: ShortText | None = None
    reason: Reason


class ExtensionBody(BaseModel):
    """Why the request needs two further months (complex or numerous): the person is told this reason."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


def install_subject_access_routes(app: FastAPI, desk: SubjectAccessDesk) -> None:
    """Mount `/subject-access-requests`."""
    router = APIRouter(tags=["information governance"])
    managers = require_roles(Role.MANAGER)
    auditors = require_roles(Role.MANAGER, Role.OPERATIONS)

    @router.post("/subject-access-requests", status_code=201,
                 summary="Start a subject access request (manager; reason required; audited)")
    async def start(body: SubjectAccessBody, principal: Principal = managers) -> dict[str, Any]:
        person = PersonIdentifiers(given_name=body.given_name, family_name=body.family_name,
                                   date_of_birth=body.date_of_birth, person_ref=body.person_ref)
        case = await desk.start(principal, person, body.reason)
        return {"request_id": case.request_id, "received_at": case.received_at.isoformat(),
                "due_on": case.due_on.isoformat(), "referral_ids": case.referral_ids}

    @router.post("/subject-access-requests/{request_id}/extension",
                 summary="Extend the deadline by two further months, once, within the first month "
                         "(manager; reason required; audited)")
    async def extend(
        request_id: PathIdentifier, body: ExtensionBody, principal: Principal = managers
    ) -> dict[str, Any]:
        return await desk.extend(request_id, principal, body.reason)

    @router.get("/subject-access-requests", summary="Every request with its deadline: due or overdue (audited)")
    async def listing(principal: Principal = managers) -> list[dict[str, Any]]:
        return await desk.listing(principal)

    @router.get("/subject-access-requests/{request_id}",
                summary="The assembled answer, marked for redaction review (audited as an export)")
    async def export(
        request_id: str,
        reason: Annotated[str, Query(min_length=3, max_length=200)],
        form: Annotated[Literal["json", "html"], Query(alias="format")] = "json",
        principal: Principal = managers,
    ) -> dict[str, Any]:
        answer = await desk.export(request_id, principal, reason, form)
        if answer is None:
            raise HTTPException(404, f"no subject access request {request_id}")
        return answer

    @router.get("/people/{person_ref}/referrals", tags=["audit"],
                summary="The referrals naming a person (case-system reference), for the audit report (audited)")
    async def referrals_of(
        person_ref: str, reason: Annotated[str, Query(min_length=3, max_length=200)] = "audit report",
        principal: Principal = auditors,
    ) -> dict[str, Any]:
        return {"person_ref": person_ref, "referral_ids": await desk.referrals_of(person_ref, principal, reason)}

    app.include_router(router)
