"""Quality assurance over HTTP: the week's dip sample, a sampled case, and the practice lead's audit of it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from mash_runtime.auth import Principal, Role, require_roles
from mash_runtime.http import DomainError, PathIdentifier
from mash_schemas.quality import ISO_WEEK_PATTERN, PracticeGrade
from mash_schemas.text import Rationale
from pydantic import BaseModel, ConfigDict, Field

from mash_decision.quality_assurance import QualityAssurance, week_of


class AuditNotFound(DomainError):
    """The case has no audit (yet)."""

    status = 404


class AuditRequest(BaseModel):
    """The practice lead's audit of a sampled case; unknown fields refused so a typo is named in the 422."""

    model_config = ConfigDict(extra="forbid")

    agrees_with_decision: bool = Field(description="Whether you agree with the threshold decision.")
    grade: PracticeGrade = Field(description="The grade of the practice: outstanding, good, requires improvement, "
                                 "inadequate.")
    learning: Rationale = Field(description="What the hub learns from the case.")


Week = Annotated[str | None, Query(pattern=ISO_WEEK_PATTERN, description="An ISO week (2026-W49); default this week.")]


def install_quality_routes(app: FastAPI, quality: QualityAssurance) -> None:
    """Mount quality assurance's routes."""
    router = APIRouter(prefix="/quality-assurance", tags=["quality assurance"])
    leads = require_roles(Role.PRACTICE_LEAD)
    readers = require_roles(Role.PRACTICE_LEAD, Role.MANAGER)

    @router.get("/dip-sample", summary="The week's dip sample of decided cases, each marked audited or not (audited)")
    async def dip_sample(week: Week = None, principal: Principal = leads) -> dict[str, Any]:
        return await quality.sample(principal, week_of(week, quality.this_week()))

    @router.get("/cases/{referral_id}", summary="A case drawn in a dip sample, as the practice lead reads it (audited)")
    async def sampled_case(
        referral_id: PathIdentifier,
        reason: Annotated[str, Query(min_length=3, max_length=200)] = "quality assurance dip sample",
        principal: Principal = leads,
    ) -> dict[str, Any]:
        return await quality.sampled_case(referral_id, principal, reason)

    @router.post("/cases/{referral_id}/audit", status_code=201, summary="Record the audit of a sampled case")
    async def record(referral_id: PathIdentifier, request: AuditRequest,
                     principal: Principal = leads) -> dict[str, Any]:
        kept = await quality.record(referral_id, principal, agrees_with_decision=request.agrees_with_decision,
                                    grade=request.grade, learning=request.learning)
        return kept.model_dump(mode="json")

    @router.get("/cases/{referral_id}/audit", summary="The practice lead's audit of a case (audited)")
    async def audit_of(referral_id: PathIdentifier, principal: Principal = readers) -> dict[str, Any]:
        found = await quality.audit_of(referral_id, principal)
        if found is None:
            raise AuditNotFound(f"{referral_id} has no quality audit", field="referral_id")
        return found.model_dump(mode="json")

    app.include_router(router)
