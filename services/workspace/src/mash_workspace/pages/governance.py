"""Information governance pages for the MASH manager: subject access requests, and "who looked".

The workspace keeps nothing: a subject access request lives on decision's desk (which audits every start,
list and export), and the audit report is gathered from every service's own `GET /audit`, each service
checking the manager's role and auditing the read itself. The export is offered as JSON and as a readable,
printable page; both mark items naming other people and every sealed item for redaction review. On that page
the manager may extend the deadline (decision keeps and audits the extension and refuses a second or late one).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from mash_workspace.hub_api import ApiError
from mash_workspace.security import csrf_form
from mash_workspace.web import Pages, form_text, require

ROLES = ("manager",)
AUDIT_COLUMNS = ("at", "service", "who", "roles", "action", "referral_id", "why")


def _day(value: str | None) -> str:
    try:
        return date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


def audit_csv(records: list[dict[str, Any]]) -> str:
    """The report as CSV, one record a row, for a complaint or an investigation."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for record in records:
        writer.writerow([record.get(column) or "" for column in AUDIT_COLUMNS])
    return out.getvalue()


def governance_routes(pages: Pages) -> APIRouter:
    """Routes for the manager: /subject-access and /who-looked."""
    router = APIRouter()
    api = pages.api

    async def listing_page(request: Request, **extra: Any) -> Response:
        user = require(request, *ROLES)
        try:
            requests = await api.subject_access_requests(user.access_token)
        except ApiError as error:
            return pages.refused(request, error)
        return pages.render(request, "governance/subject_access.html", title="Subject access requests",
                            active="governance", requests=requests, form=extra.pop("form", {}), **extra)

    @router.get("/subject-access")
    async def subject_access(request: Request) -> Response:
        return await listing_page(request)

    @router.post("/subject-access")
    async def start(request: Request, form: csrf_form) -> Response:
        user = require(request, *ROLES)
        body: dict[str, Any] = {name: form_text(form, name) or None
                                for name in ("given_name", "family_name", "date_of_birth", "person_ref", "reason")}
        try:
            started = await api.start_subject_access(user.access_token, body)
        except ApiError as error:
            if error.status in (401, 403):
                return pages.refused(request, error)
            errors = {key.split(".")[-1]: message for key, message in error.fields.items()} or {
                "family_name": error.message}
            return await listing_page(request, errors=errors, form=body)
        return RedirectResponse(f"/subject-access/{started['request_id']}?started=1", status.HTTP_303_SEE_OTHER)

    async def answer_page(request: Request, request_id: str, status_code: int = 200, **extra: Any) -> Response:
        user = require(request, *ROLES)
        try:
            found = await api.subject_access_export(user.access_token, request_id, "reviewing the answer", "html")
        except ApiError as error:
            return pages.refused(request, error)
        return pages.render(request, "governance/subject_access_answer.html", status_code=status_code,
                            title=f"Subject access {request_id}", active="governance", answer=found,
                            started=request.query_params.get("started"),
                            extended=request.query_params.get("extended"), **extra)

    @router.get("/subject-access/{request_id}")
    async def answer(request: Request, request_id: str) -> Response:
        return await answer_page(request, request_id)

    @router.post("/subject-access/{request_id}/extension")
    async def extend(request: Request, request_id: str, form: csrf_form) -> Response:
        """Two further months for a complex request; the service refuses a second extension or an overdue one."""
        user = require(request, *ROLES)
        reason = form_text(form, "reason")
        if len(reason) < 3:
            return await answer_page(request, request_id, 422,
                                     errors={"reason": "Enter why the request needs two further months"},
                                     extension_reason=reason)
        try:
            await api.extend_subject_access(user.access_token, request_id, reason)
        except ApiError as error:
            if error.status in (401, 403, 404):
                return pages.refused(request, error)
            # A refusal (already extended, or overdue) is about the request, not the reason typed.
            field = "reason" if error.status == 422 else "extension"
            message = error.fields.get("reason") or error.message
            return await answer_page(request, request_id, error.status if error.status in (409, 422) else 502,
                                     errors={field: f"The deadline was not extended: {message}"},
                                     extension_reason=reason)
        return RedirectResponse(f"/subject-access/{request_id}?extended=1", status.HTTP_303_SEE_OTHER)

    @router.get("/subject-access/{request_id}/export.json")
    async def answer_json(request: Request, request_id: str) -> Response:
        user = require(request, *ROLES)
        try:
            found = await api.subject_access_export(user.access_token, request_id, "exported as JSON", "json")
        except ApiError as error:
            return pages.refused(request, error)
        return Response(json.dumps(found, indent=2), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{request_id}.json"'})

    async def report(request: Request) -> tuple[dict[str, str], list[dict[str, Any]] | None]:
        user = require(request, *ROLES)
        query = request.query_params
        chosen = {"referral_id": (query.get("referral_id") or "").strip(),
                  "person_ref": (query.get("person_ref") or "").strip(),
                  "from": _day(query.get("from")), "to": _day(query.get("to")),
                  "reason": (query.get("reason") or "").strip()}
        if not (chosen["referral_id"] or chosen["person_ref"]):
            return chosen, None
        reason = chosen["reason"] or "who looked at this family's records"
        referral_ids = [chosen["referral_id"]] if chosen["referral_id"] else []
        if chosen["person_ref"]:
            referral_ids += await api.referrals_of(user.access_token, chosen["person_ref"], reason)
        records = await api.audit_records(user.access_token, sorted(set(referral_ids)), chosen["person_ref"] or None,
                                          {"from": chosen["from"], "to": chosen["to"]}, reason)
        return chosen, records

    @router.get("/who-looked")
    async def who_looked(request: Request) -> Response:
        try:
            chosen, records = await report(request)
        except ApiError as error:
            return pages.refused(request, error)
        return pages.render(request, "governance/who_looked.html", title="Who looked at this family's records",
                            active="who-looked", chosen=chosen, records=records)

    @router.get("/who-looked/export.{form}")
    async def who_looked_export(request: Request, form: str) -> Response:
        try:
            chosen, records = await report(request)
        except ApiError as error:
            return pages.refused(request, error)
        name = f"who-looked-{chosen['referral_id'] or chosen['person_ref'] or 'none'}"
        if form == "csv":
            return Response(audit_csv(records or []), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
        return Response(json.dumps(records or [], indent=2), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})

    return router
