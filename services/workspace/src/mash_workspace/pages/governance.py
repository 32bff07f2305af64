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
import re
from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response
from mash_runtime.roles import Role
from mash_schemas.text import CONTROL_MESSAGE, forbidden_character, public_message

from mash_workspace.clients import ApiError
from mash_workspace.security import csrf_form
from mash_workspace.web import IDENTIFIER, Identifier, Pages, PagesDep, field_errors, form_text, on_the_form, require

ROLES = (Role.MANAGER,)
AUDIT_COLUMNS = ("at", "service", "who", "roles", "action", "referral_id", "why")


def _day(value: str | None) -> str:
    try:
        return date.fromisoformat(value).isoformat() if value else ""
    except ValueError:
        return ""


START_LABELS = {"given_name": "Given name", "family_name": "Family name", "date_of_birth": "Date of birth",
                "person_ref": "Case system reference", "reason": "The reason"}
WHO_LOOKED_LABELS = {"referral_id": "Case reference", "person_ref": "The person's case system reference",
                     "from": "From", "to": "To", "reason": "Why you are looking"}


class NotAsked(Exception):
    """The report's query has answers the page refuses itself; no service is asked."""

    def __init__(self, chosen: dict[str, str], errors: dict[str, str]) -> None:
        super().__init__("not asked")
        self.chosen = chosen
        self.errors = errors


def _chosen_of(request: Request) -> dict[str, str]:
    query = request.query_params
    return {"referral_id": (query.get("referral_id") or "").strip(),
            "person_ref": (query.get("person_ref") or "").strip(),
            "from": _day(query.get("from")), "to": _day(query.get("to")),
            "reason": (query.get("reason") or "").strip()}


def audit_csv(records: list[dict[str, Any]]) -> str:
    """The report as CSV, one record a row, for a complaint or an investigation."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(AUDIT_COLUMNS)
    for record in records:
        writer.writerow([record.get(column) or "" for column in AUDIT_COLUMNS])
    return out.getvalue()


router = APIRouter()
"""Routes for the manager: /subject-access and /who-looked."""


async def listing_page(pages: Pages, request: Request, **extra: Any) -> Response:
    user = require(request, *ROLES)
    try:
        requests = await pages.clients.decision.subject_access_requests(user.access_token)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "governance/subject_access.html", title="Subject access requests",
                        active="governance", requests=requests, form=extra.pop("form", {}), **extra)


@router.get("/subject-access")
async def subject_access(request: Request, pages: PagesDep) -> Response:
    return await listing_page(pages, request)


@router.post("/subject-access")
async def start(request: Request, pages: PagesDep, form: csrf_form) -> Response:
    user = require(request, *ROLES)
    body: dict[str, Any] = {name: form_text(form, name) or None
                            for name in ("given_name", "family_name", "date_of_birth", "person_ref", "reason")}
    try:
        started = await pages.clients.decision.start_subject_access(user.access_token, body)
    except ApiError as error:
        if not on_the_form(error):
            return pages.refused(request, error)
        return await listing_page(pages, request, errors=field_errors(error, START_LABELS, "family_name"), form=body)
    return RedirectResponse(f"/subject-access/{started['request_id']}?started=1", status.HTTP_303_SEE_OTHER)


async def answer_page(pages: Pages, request: Request, request_id: str, status_code: int = 200,
                      **extra: Any) -> Response:
    user = require(request, *ROLES)
    try:
        found = await pages.clients.decision.subject_access_export(user.access_token, request_id,
                                                                   "reviewing the answer", "html")
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "governance/subject_access_answer.html", status_code=status_code,
                        title=f"Subject access {request_id}", active="governance", answer=found,
                        started=request.query_params.get("started"),
                        extended=request.query_params.get("extended"), **extra)


@router.get("/subject-access/{request_id}")
async def answer(request: Request, pages: PagesDep, request_id: Identifier) -> Response:
    return await answer_page(pages, request, request_id)


@router.post("/subject-access/{request_id}/extension")
async def extend(request: Request, pages: PagesDep, request_id: Identifier, form: csrf_form) -> Response:
    """Two further months for a complex request; the service refuses a second extension or an overdue one."""
    user = require(request, *ROLES)
    reason = form_text(form, "reason")
    if len(reason) < 3:
        return await answer_page(pages, request, request_id, 422,
                                 errors={"reason": "Enter why the request needs two further months"},
                                 extension_reason=reason)
    try:
        await pages.clients.decision.extend_subject_access(user.access_token, request_id, reason)
    except ApiError as error:
        if not on_the_form(error):
            return pages.refused(request, error)
        # A refusal (already extended, or overdue) is about the request, not the reason typed.
        field = "reason" if error.status == 422 else "extension"
        said = error.fields.get("reason")
        message = public_message("The reason", said) if said else error.message
        return await answer_page(pages, request, request_id, error.status,
                                 errors={field: f"The deadline was not extended: {message}"},
                                 extension_reason=reason)
    return RedirectResponse(f"/subject-access/{request_id}?extended=1", status.HTTP_303_SEE_OTHER)


@router.get("/subject-access/{request_id}/export.json")
async def answer_json(request: Request, pages: PagesDep, request_id: Identifier) -> Response:
    user = require(request, *ROLES)
    try:
        found = await pages.clients.decision.subject_access_export(user.access_token, request_id,
                                                                   "exported as JSON", "json")
    except ApiError as error:
        return pages.refused(request, error)
    return Response(json.dumps(found, indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{request_id}.json"'})


def checked(chosen: dict[str, str]) -> dict[str, str]:
    """What the page can tell at once: a reference that cannot be one, a reason with a control character.

    A person reference goes into decision's URL (`/people/{ref}/referrals`), so it is checked like every
    path parameter; the reason follows the contract's rule for text.
    """
    errors: dict[str, str] = {}
    for name in ("referral_id", "person_ref"):
        if chosen[name] and not re.fullmatch(IDENTIFIER, chosen[name]):
            errors[name] = f"{WHO_LOOKED_LABELS[name]} must only include letters, numbers, hyphens and full stops"
    if forbidden_character(chosen["reason"]) is not None:
        errors["reason"] = public_message(WHO_LOOKED_LABELS["reason"], CONTROL_MESSAGE)
    return errors


Report = tuple[dict[str, str], list[dict[str, Any]] | None]
"""What was asked (the form's fields) and the audit records found."""


async def report(pages: Pages, request: Request) -> Report:
    user = require(request, *ROLES)
    chosen = _chosen_of(request)
    if not (chosen["referral_id"] or chosen["person_ref"]):
        return chosen, None
    if errors := checked(chosen):
        raise NotAsked(chosen, errors)
    reason = chosen["reason"] or "who looked at this family's records"
    referral_ids = [chosen["referral_id"]] if chosen["referral_id"] else []
    if chosen["person_ref"]:
        referral_ids += await pages.clients.decision.referrals_of(user.access_token, chosen["person_ref"], reason)
    records = await pages.clients.audit_records(user.access_token, sorted(set(referral_ids)),
                                                chosen["person_ref"] or None,
                                                {"from": chosen["from"], "to": chosen["to"]}, reason)
    return chosen, records


def report_page(pages: Pages, request: Request, chosen: dict[str, str], records: list[dict[str, Any]] | None,
                errors: dict[str, str] | None = None) -> Response:
    return pages.render(request, "governance/who_looked.html", title="Who looked at this family's records",
                        status_code=400 if errors else 200, active="who-looked", chosen=chosen, records=records,
                        errors=errors or {})


async def _report_or_form(pages: Pages, request: Request) -> Report | Response:
    """The report asked for, or the form again with what is wrong (or the service's refusal page): the page and
    its exports answer a bad request the same way."""
    try:
        return await report(pages, request)
    except NotAsked as refused:
        return report_page(pages, request, refused.chosen, None, refused.errors)
    except ApiError as error:
        if not on_the_form(error):
            return pages.refused(request, error)
        # Every service checks the reason (at least 3 characters): its refusal is the field's message.
        return report_page(pages, request, _chosen_of(request), None,
                           field_errors(error, WHO_LOOKED_LABELS, "reason"))


@router.get("/who-looked")
async def who_looked(request: Request, pages: PagesDep) -> Response:
    found = await _report_or_form(pages, request)
    if isinstance(found, Response):
        return found
    chosen, records = found
    return report_page(pages, request, chosen, records)


@router.get("/who-looked/export.{form}")
async def who_looked_export(request: Request, pages: PagesDep, form: Literal["csv", "json"]) -> Response:
    found = await _report_or_form(pages, request)
    if isinstance(found, Response):
        return found
    chosen, records = found
    name = f"who-looked-{chosen['referral_id'] or chosen['person_ref'] or 'none'}"
    if form == "csv":
        return Response(audit_csv(records or []), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(json.dumps(records or [], indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
