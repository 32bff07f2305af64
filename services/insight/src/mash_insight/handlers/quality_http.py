"""The quality-assurance figure over HTTP: audits of the dip sample by grade and agreement (every read audited)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, require_roles
from mash_runtime.roles import Role

from mash_insight.domain.quality_assurance import QualityAssuranceReport
from mash_insight.handlers.http import BadPeriod
from mash_insight.quality_assurance import QualityAssuranceFigures
from mash_insight.reports import PeriodRefused, Reports

From = Annotated[date | None, Query(alias="from", description="First day (the hub's timezone); default 30 days ago.")]
To = Annotated[date | None, Query(alias="to", description="Last day, included; default today.")]


def install_quality_routes(app: FastAPI, reports: Reports, figures: QualityAssuranceFigures, audit: AuditLog) -> None:
    """Mount GET /figures/quality-assurance for analysts, managers and practice leads."""
    router = APIRouter(tags=["figures"])
    reader = require_roles(Role.ANALYST, Role.MANAGER, Role.PRACTICE_LEAD)

    @router.get("/figures/quality-assurance", summary="Audits of the weekly dip sample, by grade and agreement")
    async def quality_assurance(first: From = None, last: To = None,
                                principal: Principal = reader) -> QualityAssuranceReport:
        try:
            chosen = reports.period(first, last)
        except PeriodRefused as exc:
            raise BadPeriod(str(exc), field="from") from exc
        await audit.record(who=principal, action="figures.quality_assurance", referral_id=None, why="hub figures",
                           what={"from": str(chosen.first), "to": str(chosen.last)})
        return await figures.report(chosen)

    app.include_router(router)
