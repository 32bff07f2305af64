"""Hub staff pages: the queue, the case file, screening, routing, the enquiry and the decision.

Every page reads from the decision (and enquiry, notify) service as the signed-in person; a form
posts to the service and, if refused, comes back with the service's message on the field it named.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from mash_runtime.roles import Role
from mash_schemas.common import ConsentStatus
from starlette import status
from starlette.datastructures import FormData

from mash_workspace.choices import CONSENT_CHECKS, OUTCOMES, RATINGS
from mash_workspace.clients import ApiError
from mash_workspace.pages import reasoning
from mash_workspace.security import csrf_form
from mash_workspace.web import Identifier, Pages, PagesDep, SignedIn, field_errors, form_text, on_the_form, require

# Decision's own case states (not part of the contract: its OpenAPI publishes them, and the workspace's OpenAPI
# test checks these against it).
STATES = [("awaiting_screening", "Awaiting screening"), ("awaiting_decision", "Awaiting decision")]
VIEW_REASON = "screening and decision"


# Each form's inputs as their messages name them (decision's field names are the inputs' names).
SCREENING = {"rating": "The rating", "rationale": "The reason for the rating"}
ROUTING = {"routing_rationale": "The reason for routing"}
ENQUIRY = {"agencies": "The agencies to ask", "consent_check": "Whether consent was re-checked",
           "proceed_without_consent_reason": "The reason to proceed without consent",
           "questions": "Each question"}
TRANSFER = {"to_hub": "The hub the family now lives in", "reason": "The reason for the transfer"}
DECISION = {"outcome": "The outcome", "receiving_service": "The receiving service",
            "rationale": "The reason for the decision", "handoff_item_ids": "The items to hand off",
            "rating": "The rating"}


router = APIRouter()
"""Routes for screeners, MASH managers and analysts."""


async def _enquiry_progress(pages: Pages, token: str, enquiry_id: str) -> dict[str, Any]:
    """Who answered and who is late; or, if the research desk has not yet taken the enquiry, that it is on its way.

    Decision records the enquiry on the case file and publishes it; the research desk opens it when the event
    arrives, a moment later. A manager who has just opened it lands on the case in that moment: the page says
    the agencies are being asked rather than "Page not found".
    """
    try:
        return await pages.clients.enquiry.enquiry_progress(token, enquiry_id)
    except ApiError as error:
        if error.status == status.HTTP_404_NOT_FOUND:
            return {"being_opened": True, "answered": [], "not_answered": []}
        raise


async def case_page(pages: Pages, request: Request, user: SignedIn, referral_id: str, template: str,
                    **extra: Any) -> Response:
    try:
        view = await pages.clients.decision.case_file(user.access_token, referral_id, VIEW_REASON)
        trail = await pages.clients.decision.audit_trail(user.access_token, referral_id) if user.is_manager else None
        # Issue 23: the practice lead's audit of a case drawn in the dip sample, for the manager who decided.
        quality_audit = (await pages.clients.decision.quality_audit(user.access_token, referral_id)
                         if user.is_manager and view["case_file"].get("decision") else None)
        progress = None
        enquiry = view["case_file"].get("enquiry")
        if enquiry and user.may_screen:
            progress = await _enquiry_progress(pages, user.access_token, enquiry["enquiry_id"])
    except ApiError as error:
        return pages.refused(request, error)
    # The reasoning inputs as typed, else as the case stands (the analysis the manager is to sanction).
    extra.setdefault("reasoning_form", reasoning.from_view(view))
    return pages.render(request, template, view=view, case=view["case_file"], trail=trail, progress=progress,
                        quality_audit=quality_audit,
                        referral_id=referral_id, ratings=RATINGS, outcomes=OUTCOMES, consent_checks=CONSENT_CHECKS,
                        **reasoning.template_context(), **extra)


@router.get("/queue")
async def queue(request: Request, pages: PagesDep, state: str | None = None, rating: str | None = None) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER, Role.ANALYST)
    state = state if state in dict(STATES) else None
    rating = rating if rating in dict(RATINGS) else None
    try:
        entries = await pages.clients.decision.queue(user.access_token, state, rating)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "queue.html", title="Queue", entries=entries, states=STATES, ratings=RATINGS,
                        chosen_state=state, chosen_rating=rating)


@router.get("/cases/{referral_id}")
async def case_file(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER, Role.ANALYST)
    return await case_page(pages, request, user, referral_id, "case.html", title=f"Case {referral_id}")


@router.post("/cases/{referral_id}/screening")
async def screen(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER)
    body = {"rating": form_text(form, "rating") or None, "rationale": form_text(form, "rationale") or None}
    typed = reasoning.posted(form)
    extra, errors = reasoning.to_body(typed)
    if not errors:
        try:
            await pages.clients.decision.screen(user.access_token, referral_id, {**body, **extra})
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, {**SCREENING, **reasoning.LABELS}, "rationale",
                                  rename=reasoning.input_for)
    if errors:
        return await case_page(pages, request, user, referral_id, "case.html", title=f"Case {referral_id}",
                               errors=errors, screening_form=body, reasoning_form=typed)
    return RedirectResponse(f"/cases/{referral_id}?done=screened", status.HTTP_303_SEE_OTHER)


@router.post("/cases/{referral_id}/routing")
async def route(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER)
    try:
        await pages.clients.decision.route(user.access_token, referral_id,
                                           {"rationale": form_text(form, "routing_rationale") or None})
    except ApiError as error:
        if not on_the_form(error):
            return pages.refused(request, error)
        return await case_page(pages, request, user, referral_id, "case.html", title=f"Case {referral_id}",
                               errors=field_errors(error, ROUTING, "routing_rationale",
                                                   rename=lambda _: "routing_rationale"))
    return RedirectResponse(f"/cases/{referral_id}?done=routed", status.HTTP_303_SEE_OTHER)


async def enquiry_page(pages: Pages, request: Request, user: SignedIn, referral_id: str, **extra: Any) -> Response:
    try:
        agencies = await pages.clients.enquiry.agencies(user.access_token)
    except ApiError as error:
        return pages.refused(request, error)
    return await case_page(pages, request, user, referral_id, "enquiry.html", title="Open a MASH enquiry",
                           agencies=agencies, **extra)


@router.get("/cases/{referral_id}/enquiry")
async def enquiry_form(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    user = require(request, Role.MANAGER)
    return await enquiry_page(pages, request, user, referral_id, form={})


@router.post("/cases/{referral_id}/enquiry")
async def open_enquiry(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.MANAGER)
    chosen = [value for value in form.getlist("agencies") if isinstance(value, str)]
    consent = form_text(form, "consent_check")
    body: dict[str, Any] = {
        "agencies": chosen,
        "consent_check": consent or None,
        "proceed_without_consent_reason": form_text(form, "proceed_without_consent_reason") or None,
        "questions": [line.strip() for line in form_text(form, "questions").splitlines() if line.strip()],
    }
    errors: dict[str, str] = {}
    if not chosen:
        errors["agencies"] = "Select at least one agency to ask"
    if not consent:
        errors["consent_check"] = "Say whether consent was re-checked"
    elif consent != ConsentStatus.GIVEN and not body["proceed_without_consent_reason"]:
        errors["proceed_without_consent_reason"] = "Give the reason to proceed without consent"
    if not errors:
        try:
            await pages.clients.decision.open_enquiry(user.access_token, referral_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, ENQUIRY, "agencies")
    if errors:
        return await enquiry_page(pages, request, user, referral_id, form=body, errors=errors)
    return RedirectResponse(f"/cases/{referral_id}?done=enquiry", status.HTTP_303_SEE_OTHER)


def decision_body(form: FormData) -> dict[str, Any]:
    return {
        "outcome": form_text(form, "outcome") or None,
        "receiving_service": form_text(form, "receiving_service") or None,
        "rationale": form_text(form, "rationale"),
        "handoff_item_ids": [value for value in form.getlist("handoff_item_ids") if isinstance(value, str)],
        "rating": form_text(form, "rating") or None,
    }


def decision_errors(body: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not body["outcome"]:
        errors["outcome"] = "Select the outcome"
    if not body["rationale"]:
        errors["rationale"] = "Give the reason for the decision"
    return errors


@router.get("/cases/{referral_id}/decision")
async def decision_form(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    user = require(request, Role.MANAGER)
    return await case_page(pages, request, user, referral_id, "decision.html", title="Decide", form={})


def with_reasoning(form: FormData) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The decision's body with the reasoning typed beside it, the errors the page sees, what was typed."""
    body = decision_body(form)
    typed = reasoning.posted(form)
    extra, reasoning_errors = reasoning.to_body(typed)
    return {**body, **extra}, {**decision_errors(body), **reasoning_errors}, typed


def refused_fields(error: ApiError) -> dict[str, str]:
    return field_errors(error, {**DECISION, **reasoning.LABELS}, "outcome", rename=reasoning.input_for)


@router.post("/cases/{referral_id}/decision/preview")
async def preview(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.MANAGER)
    body, errors, typed = with_reasoning(form)
    if not errors:
        try:
            draft = await pages.clients.decision.preview_decision(user.access_token, referral_id, body)
            messages = await pages.clients.notify.preview_handoff(user.access_token, draft["decision"])
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = refused_fields(error)
        else:
            return pages.render(request, "preview.html", title="Check what will be sent",
                                referral_id=referral_id, form=body, decision=draft["decision"], messages=messages,
                                reasoning_form=typed, **reasoning.template_context())
    return await case_page(pages, request, user, referral_id, "decision.html", title="Decide", form=body, errors=errors,
                           reasoning_form=typed)


@router.post("/cases/{referral_id}/decision")
async def decide(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.MANAGER)
    body, errors, typed = with_reasoning(form)
    if not errors:
        try:
            await pages.clients.decision.decide(user.access_token, referral_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = refused_fields(error)
    if errors:
        return await case_page(pages, request, user, referral_id, "decision.html", title="Decide", form=body,
                               errors=errors, reasoning_form=typed)
    return RedirectResponse(f"/cases/{referral_id}?done=decided", status.HTTP_303_SEE_OTHER)

# --- transfer to another hub of the region (issue 20; docs/federation.md) ---------------------------


def transfer_body(form: FormData) -> dict[str, Any]:
    return {"to_hub": form_text(form, "to_hub"), "reason": form_text(form, "reason")}


def transfer_errors(body: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not body["to_hub"]:
        errors["to_hub"] = "Enter the hub the family now lives in"
    if not body["reason"]:
        errors["reason"] = "Give the reason for the transfer"
    return errors


@router.get("/cases/{referral_id}/transfer")
async def transfer_form(request: Request, pages: PagesDep, referral_id: Identifier) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER)
    return await case_page(pages, request, user, referral_id, "transfer.html", title="Transfer to another hub", form={})


@router.post("/cases/{referral_id}/transfer/preview")
async def transfer_preview(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER)
    body = transfer_body(form)
    errors = transfer_errors(body)
    if not errors:
        try:
            crossing = await pages.clients.decision.preview_transfer(user.access_token, referral_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, TRANSFER, "to_hub")
        else:
            return pages.render(request, "transfer_preview.html", title="Check what will cross",
                                referral_id=referral_id, form=body, transfer=crossing["transfer"])
    return await case_page(pages, request, user, referral_id, "transfer.html", title="Transfer to another hub",
                           form=body, errors=errors)


@router.post("/cases/{referral_id}/transfer")
async def transfer(request: Request, pages: PagesDep, referral_id: Identifier, form: csrf_form) -> Response:
    user = require(request, Role.SCREENER, Role.MANAGER)
    body = transfer_body(form)
    errors = transfer_errors(body)
    if not errors:
        try:
            await pages.clients.decision.transfer(user.access_token, referral_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, TRANSFER, "to_hub")
    if errors:
        return await case_page(pages, request, user, referral_id, "transfer.html", title="Transfer to another hub",
                               form=body, errors=errors)
    return RedirectResponse(f"/cases/{referral_id}?done=transferred", status.HTTP_303_SEE_OTHER)
