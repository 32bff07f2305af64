"""HTTP routes: the figures for the council's own reporting and the workspace's pages (analysts, managers).

Every read is audited (who, which figures, for which period, why). The figures name no person: the
rising-concern listing names referral ids and the local authority's person references, for a
professional to look up in the case system.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import Response
from mash_runtime.audit import AuditLog
from mash_runtime.auth import Principal, require_roles
from mash_runtime.http import DomainError
from mash_runtime.roles import Role

from mash_insight.domain import figures, thresholds
from mash_insight.domain.periods import Grouping, Period
from mash_insight.domain.rising_concern import RisingConcernReport
from mash_insight.reports import PeriodRefused, Reports
from mash_insight.store import InsightStore

From = Annotated[date | None, Query(alias="from", description="First day (the hub's timezone); default 30 days ago.")]
To = Annotated[date | None, Query(alias="to", description="Last day, included; default today.")]
By = Annotated[Grouping, Query(description="Group by day, week (ISO) or month.")]


class BadPeriod(DomainError):
    """The period asked for cannot be reported."""

    status = 422


def figure_routes(reports: Reports, audit: AuditLog, store: InsightStore | None = None) -> APIRouter:
    """The figures, for analysts and managers."""
    router = APIRouter(tags=["figures"])
    reader = require_roles(Role.ANALYST, Role.MANAGER)
    operations = require_roles(Role.ANALYST, Role.MANAGER, Role.OPERATIONS)

    def period(first: date | None, last: date | None) -> Period:
        try:
            return reports.period(first, last)
        except PeriodRefused as exc:
            raise BadPeriod(str(exc), field="from") from exc

    async def audited(principal: Principal, action: str, what: dict[str, Any]) -> None:
        await audit.record(who=principal, action=action, referral_id=None, why="hub figures", what=what)

    @router.get("/figures/performance", summary="Contacts, conversion and timeliness by day, week or month")
    async def performance(first: From = None, last: To = None, by: By = Grouping.DAY,
                          principal: Principal = reader) -> figures.PerformanceReport:
        chosen = period(first, last)
        await audited(principal, "figures.performance", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.performance(chosen, by)

    @router.get("/figures/agencies", summary="Agencies' answers to enquiries: response times, late, silent")
    async def agencies(first: From = None, last: To = None, principal: Principal = reader) -> figures.AgencyReport:
        chosen = period(first, last)
        await audited(principal, "figures.agencies", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.agencies(chosen)

    @router.get("/figures/areas", summary="Contacts and outcomes by postcode district")
    async def areas(first: From = None, last: To = None, by: By = Grouping.MONTH,
                    principal: Principal = reader) -> figures.AreaReport:
        chosen = period(first, last)
        await audited(principal, "figures.areas", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.areas(chosen, by)

    @router.get("/figures/consultations", summary="Advice given without a referral")
    async def consultations(first: From = None, last: To = None,
                            principal: Principal = reader) -> figures.ConsultationReport:
        chosen = period(first, last)
        await audited(principal, "figures.consultations", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.consultations(chosen)

    @router.get("/figures/federation", summary="Transfers in and out by hub, and enquiries asking a neighbouring hub")
    async def federation(first: From = None, last: To = None,
                         principal: Principal = reader) -> figures.FederationReport:
        chosen = period(first, last)
        await audited(principal, "figures.federation", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.federation(chosen)

    @router.get("/figures/thresholds", summary="Threshold consistency: agreement, changes, step-up and step-down, "
                "outcomes by rating and safety scale, drift; counts under 5 shown as <5")
    async def threshold_figures(first: From = None, last: To = None, by: By = Grouping.WEEK,
                                principal: Principal = reader) -> thresholds.ThresholdReport:
        chosen = period(first, last)
        await audited(principal, "figures.thresholds", {"from": str(chosen.first), "to": str(chosen.last)})
        return await reports.thresholds(chosen, by)

    @router.get("/figures/rising-concern", summary="Families whose low-level contacts add up (a prompt to look)")
    async def rising(as_of: Annotated[date | None, Query(description="The day looked back from; default today.")]
                     = None, principal: Principal = reader) -> RisingConcernReport:
        day = as_of or reports.today()
        report = await reports.rising_concern(reports.end_of(day))
        await audited(principal, "figures.rising_concern",
                      {"as_of": str(day), "families": len(report.families),
                       "referral_ids": sorted(c.referral_id for f in report.families for c in f.contacts)})
        return report

    @router.get("/export/commissioners.csv", summary="Counts for commissioners, numbers under 5 shown as <5",
                response_class=Response)
    async def export(first: From = None, last: To = None, by: By = Grouping.MONTH,
                     principal: Principal = reader) -> Response:
        chosen = period(first, last)
        await audited(principal, "export.commissioners", {"from": str(chosen.first), "to": str(chosen.last)})
        text = await reports.commissioners_csv(chosen, by)
        name = f"mash-figures-{chosen.first}-to-{chosen.last}.csv"
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    if store is not None:
        @router.get("/facts/counts", tags=["operations"], summary="How many facts of each kind are kept")
        async def counts(principal: Principal = operations) -> dict[str, int]:
            del principal
            return await store.counts()

    return router


def install_routes(app: FastAPI, reports: Reports, audit: AuditLog, store: InsightStore | None = None) -> None:
    """Mount insight's routes."""
    app.include_router(figure_routes(reports, audit, store))
