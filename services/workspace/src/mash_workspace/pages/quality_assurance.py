"""Quality assurance pages for the practice lead: this week's dip sample, and the audit of each case drawn.

The workspace keeps nothing and chooses nothing: decision draws the sample from the week (so nobody picks which
cases are audited), audits every look at a sampled case, and keeps the audit; the manager who decided reads it on
the case page (pages/staff.py).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from mash_runtime.roles import Role
from mash_schemas.quality import ISO_WEEK_PATTERN

from mash_workspace.choices import AGREEMENT, OUTCOMES, PRACTICE_GRADES
from mash_workspace.clients import ApiError
from mash_workspace.security import csrf_form
from mash_workspace.web import Identifier, Pages, PagesDep, field_errors, form_text, on_the_form, require

ROLES = (Role.PRACTICE_LEAD,)
VIEW_REASON = "quality assurance dip sample audit"
LABELS = {"agrees_with_decision": "Whether you agree with the threshold decision", "grade": "The grade",
          "learning": "The learning"}
# The error summary's links go to the first radio of a group (GOV.UK: the id of the first input).
ERROR_ANCHORS = {"agrees_with_decision": "agrees_with_decision", "grade": "grade", "learning": "learning"}

router = APIRouter()
"""Routes for the practice lead: /dip-sample and the audit of each sampled case."""


@router.get("/dip-sample")
async def dip_sample(request: Request, pages: PagesDep, week: str | None = None) -> Response:
    user = require(request, *ROLES)
    chosen = week if week and re.fullmatch(ISO_WEEK_PATTERN, week) else None
    try:
        sample = await pages.clients.decision.dip_sample(user.access_token, chosen)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "quality_assurance/dip_sample.html", title="Dip sample", active="dip-sample",
                        sample=sample, outcomes=dict(OUTCOMES), audited=request.query_params.get("audited"))


async def audit_page(pages: Pages, request: Request, referral_id: str, status_code: int = 200,
                     **extra: Any) -> Response:
    user = require(request, *ROLES)
    try:
        sampled = await pages.clients.decision.sampled_case(user.access_token, referral_id, VIEW_REASON)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "quality_assurance/audit.html", status_code=status_code,
                        title=f"Audit {referral_id}", active="dip-sample", referral_id=referral_id, sampled=sampled,
                        case=sampled["case_file"], outcomes=dict(OUTCOMES), grades=PRACTICE_GRADES,
                        agreement=AGREEMENT, error_anchors=ERROR_ANCHORS, form=extra.pop("form", {}), **extra)


@router.get("/dip-sample/cases/{referral_id}")
async def audit(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    return await audit_page(pages, request, referral_id)


@router.post("/dip-sample/cases/{referral_id}/audit")
async def record(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, *ROLES)
    typed = {name: form_text(form, name) for name in ("agrees_with_decision", "grade", "learning")}
    errors: dict[str, str] = {}
    if typed["agrees_with_decision"] not in dict(AGREEMENT):
        errors["agrees_with_decision"] = "Select whether you agree with the threshold decision"
    if typed["grade"] not in dict(PRACTICE_GRADES):
        errors["grade"] = "Select the grade of the practice"
    if not typed["learning"]:
        errors["learning"] = "Enter the learning from this case"
    if not errors:
        body = {"agrees_with_decision": typed["agrees_with_decision"] == "true", "grade": typed["grade"],
                "learning": typed["learning"]}
        try:
            await pages.clients.decision.record_quality_audit(user.access_token, referral_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, LABELS, "learning")
    if errors:
        return await audit_page(pages, request, referral_id, 422, errors=errors,
                                form=typed)
    return RedirectResponse(f"/dip-sample?audited={referral_id}", status.HTTP_303_SEE_OTHER)
