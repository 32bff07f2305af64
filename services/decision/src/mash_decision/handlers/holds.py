"""Legal holds over HTTP: a MASH manager places or lifts one, with a reason, and every service hears of it.

A hold stops the retention sweepers erasing a referral's records (a case under review, a complaint, a
learning review) until it is lifted. Placing and lifting are audited; the hold travels on `legal.hold` so
each service keeps it locally (mash_runtime.governance).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.clock import Clock
from mash_runtime.governance import Governance
from mash_runtime.http import DomainError, PathIdentifier
from mash_schemas import text
from mash_schemas.governance import HoldReason, LegalHold
from pydantic import BaseModel, ConfigDict

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
