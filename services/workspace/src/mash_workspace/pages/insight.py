"""The hub's figures for analysts and managers: performance, agencies, areas, thresholds, rising concern, the export.

Every page reads from insight as the signed-in person (insight checks the role and audits the read). Tables
always; the contacts per day also as a small bar chart drawn here as SVG, with the same numbers in the table.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from mash_runtime.roles import Role

from mash_workspace.clients import ApiError
from mash_workspace.web import Pages, PagesDep, require

GROUPINGS = [("day", "Day"), ("week", "Week"), ("month", "Month")]
ROLES = (Role.ANALYST, Role.MANAGER)


def _period(first: str | None, last: str | None, by: str | None, default_by: str) -> dict[str, str]:
    """The query for insight: only well-formed dates and a known grouping go through."""
    params: dict[str, str] = {"by": by if by in dict(GROUPINGS) else default_by}
    for name, value in (("from", first), ("to", last)):
        try:
            if value:
                params[name] = date.fromisoformat(value).isoformat()
        except ValueError:
            continue
    return params


def bar_chart(labels: list[str], values: list[int], height: int = 120, bar: int = 14) -> dict[str, Any]:
    """Bars for an SVG chart, scaled to the largest value (the table beside it has the numbers)."""
    top = max(values, default=0) or 1
    bars: list[dict[str, Any]] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        tall = round(height * value / top)
        bars.append({"x": i * (bar + 4), "y": height - tall, "height": tall, "label": label, "value": value})
    return {"bars": bars, "width": max(1, len(bars) * (bar + 4)), "height": height, "bar": bar, "top": top}


# What the figures' templates call, added to the pages' environment by create_app.
TEMPLATE_GLOBALS: dict[str, Any] = {"bar_chart": bar_chart}


router = APIRouter()
"""Routes for analysts and managers."""


async def page(pages: Pages, request: Request, template: str, title: str, tab: str,
               reads: dict[str, tuple[str, dict[str, str]]], **extra: Any) -> Response:
    user = require(request, *ROLES)
    try:
        found: dict[str, Any] = {key: await pages.clients.insight.figures(user.access_token, name, params)
                                 for key, (name, params) in reads.items()}
    except ApiError as error:
        if error.status == 422:
            empty: dict[str, Any] = dict.fromkeys(reads)
            return pages.render(request, template, title=title, tab=tab, active="insight", groupings=GROUPINGS,
                                errors={"from": error.message}, **empty, **extra)
        return pages.refused(request, error)
    return pages.render(request, template, title=title, tab=tab, active="insight", groupings=GROUPINGS,
                        **found, **extra)


@router.get("/insight")
async def performance(request: Request, pages: PagesDep, by: str | None = None) -> Response:
    params = _period(request.query_params.get("from"), request.query_params.get("to"), by, "day")
    return await page(pages, request, "insight/performance.html", "The hub's performance", "performance",
                      {"report": ("performance", params), "consultations": ("consultations", params)},
                      chosen=params)


@router.get("/insight/agencies")
async def agencies(request: Request, pages: PagesDep, by: str | None = None) -> Response:
    params = _period(request.query_params.get("from"), request.query_params.get("to"), by, "day")
    return await page(pages, request, "insight/agencies.html", "Agencies' answers", "agencies",
                      {"report": ("agencies", params)}, chosen=params)


@router.get("/insight/areas")
async def areas(request: Request, pages: PagesDep, by: str | None = None) -> Response:
    params = _period(request.query_params.get("from"), request.query_params.get("to"), by, "month")
    return await page(pages, request, "insight/areas.html", "Areas", "areas", {"report": ("areas", params)},
                      chosen=params)


BREAKDOWNS = [("all", "All decided contacts"), ("source", "By contact source (the referrer's sector)"),
              ("screener", "By screener"), ("manager", "By manager (who decided)"), ("period", "Over time")]


@router.get("/insight/thresholds")
async def thresholds(request: Request, pages: PagesDep, by: str | None = None) -> Response:
    """Threshold consistency: insight has already shown every count under 5 as "<5"; the page shows it as given."""
    params = _period(request.query_params.get("from"), request.query_params.get("to"), by, "week")
    return await page(pages, request, "insight/thresholds.html", "Threshold consistency", "thresholds",
                      {"report": ("thresholds", params)}, chosen=params, breakdowns=BREAKDOWNS)


@router.get("/insight/rising-concern")
async def rising(request: Request, pages: PagesDep, as_of: str | None = None) -> Response:
    params: dict[str, str] = {}
    try:
        if as_of:
            params["as_of"] = date.fromisoformat(as_of).isoformat()
    except ValueError:
        pass
    return await page(pages, request, "insight/rising_concern.html", "Rising concern", "rising",
                      {"report": ("rising-concern", params)}, chosen=params)


@router.get("/insight/export.csv")
async def export(request: Request, pages: PagesDep, by: str | None = None) -> Response:
    user = require(request, *ROLES)
    params = _period(request.query_params.get("from"), request.query_params.get("to"), by, "month")
    try:
        text, name = await pages.clients.insight.commissioners_csv(user.access_token, params)
    except ApiError as error:
        return pages.refused(request, error)
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
