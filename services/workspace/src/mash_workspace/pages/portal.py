"""The agency portal: a school, nursery or GP practice with no IT integration answers the hub's requests.

An agency user sees only their own agency's requests: the page refuses another agency's path with 403
before asking enquiry for anything (and enquiry refuses it again). The answer goes to enquiry, which
publishes it on the agency's own response topic, where it is taken exactly like the kit's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from mash_runtime.roles import Role
from mash_schemas.agency import Sensitivity
from starlette import status
from starlette.datastructures import FormData

from mash_workspace.choices import AGENCY_ANSWERS, INFORMATION_HELD, NOTHING_KNOWN, RATINGS, SENSITIVITIES
from mash_workspace.clients import ApiError
from mash_workspace.security import csrf_form
from mash_workspace.web import (
    AgencyId,
    Forbidden,
    Identifier,
    Pages,
    PagesDep,
    SignedIn,
    field_errors,
    form_text,
    on_the_form,
    require,
)

ITEM_SLOTS = 3


def _own(request: Request, agency: str) -> SignedIn:
    user = require(request, Role.AGENCY)
    if user.agency != agency:
        raise Forbidden("You can see and answer only your own agency's requests.")
    return user


def answer_from(form: FormData, errors: dict[str, str]) -> dict[str, Any]:
    """The portal's answer from the form: up to three items, each shareable or sensitive."""
    outcome = form_text(form, "outcome")
    items: list[dict[str, Any]] = []
    for n in range(1, ITEM_SLOTS + 1):
        summary = form_text(form, f"item-{n}-summary")
        if not summary:
            continue
        sensitivity = form_text(form, f"item-{n}-sensitivity")
        if sensitivity not in SENSITIVITIES:
            errors[f"item-{n}-sensitivity"] = f"Say whether item {n} may be shared or is sensitive"
        permitted = form_text(form, f"item-{n}-release") == "permitted"
        wording = form_text(form, f"item-{n}-permitted_wording")
        if sensitivity == Sensitivity.SENSITIVE and permitted and not wording:
            errors[f"item-{n}-permitted_wording"] = f"Give the words in which item {n} may be shared"
        items.append({
            "about": form_text(form, f"item-{n}-about") or "the family",
            "summary": summary,
            "sensitivity": sensitivity or Sensitivity.SENSITIVE.value,
            "rating_reason": form_text(form, f"item-{n}-rating_reason") or None,
            "release_permitted": sensitivity == Sensitivity.SENSITIVE and permitted,
            "permitted_wording": wording if sensitivity == Sensitivity.SENSITIVE and permitted else None,
        })
    if outcome not in (INFORMATION_HELD, NOTHING_KNOWN):
        errors["outcome"] = "Say whether your agency holds information about this family"
    elif outcome == NOTHING_KNOWN and items:  # never drop what someone typed: ask which they meant
        errors["outcome"] = ("You have described information your agency holds: choose 'Yes, we hold information', "
                             "or delete the items")
    elif outcome == INFORMATION_HELD:
        if not items:
            errors["item-1-summary"] = "Describe at least one thing your agency knows"
        if not form_text(form, "rating"):
            errors["rating"] = "Give your agency's view of the level of need"
    answer: dict[str, Any] = {"outcome": outcome or None, "rating": form_text(form, "rating") or None,
                              "items": items if outcome == INFORMATION_HELD else []}
    scale = form_text(form, "safety_scale")
    if scale:  # optional (issue 23): an answer without it is sent exactly as before
        if scale.isdigit() and 0 <= int(scale) <= 10:
            answer["safety_scale"] = int(scale)
        else:
            errors["safety_scale"] = "The safety scale must be a whole number from 0 to 10"
    return answer


ANSWER_LABELS = {"outcome": "Whether your agency holds information", "rating": "The level of need",
                 "safety_scale": "The safety scale",
                 **{f"item-{n}-{part}": f"{label} of item {n}" for n in range(1, ITEM_SLOTS + 1)
                    for part, label in (("about", "Who it is about"), ("summary", "The description"),
                                        ("sensitivity", "Whether it may be shared"),
                                        ("rating_reason", "The reason for the level of need"),
                                        ("permitted_wording", "The words it may be shared in"))}}


def answer_input(path: str) -> str | None:
    """Enquiry's field path as the form's input ('items.0.summary' -> 'item-1-summary')."""
    parts = path.split(".")
    if len(parts) >= 3 and parts[0] == "items" and parts[1].isdigit():
        return f"item-{int(parts[1]) + 1}-{parts[2]}"
    return parts[-1]


router = APIRouter()
"""Routes for partner agencies' users."""


@router.get("/portal")
async def portal(request: Request, pages: PagesDep) -> Response:
    user = require(request, Role.AGENCY)
    return RedirectResponse(f"/portal/{user.agency}", status.HTTP_303_SEE_OTHER)


@router.get("/portal/{agency}")
async def requests(request: Request, pages: PagesDep, agency: AgencyId) -> Response:
    user = _own(request, agency)
    try:
        found = await pages.clients.enquiry.agency_requests(user.access_token, agency)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "portal/requests.html", title="Requests for information", agency=agency,
                        requests=found)


async def request_page(pages: Pages, request: Request, user: SignedIn, agency: str, enquiry_id: str,
                       **extra: Any) -> Response:
    try:
        found = await pages.clients.enquiry.agency_request(user.access_token, agency, enquiry_id)
    except ApiError as error:
        return pages.refused(request, error)
    return pages.render(request, "portal/request.html", title="Answer a request", agency=agency,
                        enquiry_id=enquiry_id, request_for=found, ratings=RATINGS, answers=AGENCY_ANSWERS,
                        slots=range(1, ITEM_SLOTS + 1), **extra)


@router.get("/portal/{agency}/requests/{enquiry_id}")
async def one_request(request: Request, pages: PagesDep, agency: AgencyId, enquiry_id: Identifier) -> Response:
    user = _own(request, agency)
    return await request_page(pages, request, user, agency, enquiry_id, form={})


@router.post("/portal/{agency}/requests/{enquiry_id}")
async def answer(request: Request, pages: PagesDep, agency: AgencyId, enquiry_id: Identifier,
                 form: csrf_form) -> Response:
    user = _own(request, agency)
    errors: dict[str, str] = {}
    body = answer_from(form, errors)
    echo = {key: value for key, value in form.multi_items() if isinstance(value, str) and key != "csrf_token"}
    if not errors:
        try:
            await pages.clients.enquiry.agency_answer(user.access_token, agency, enquiry_id, body)
        except ApiError as error:
            if not on_the_form(error):
                return pages.refused(request, error)
            errors = field_errors(error, ANSWER_LABELS, "outcome", rename=answer_input)
    if errors:
        return await request_page(pages, request, user, agency, enquiry_id, form=echo, errors=errors)
    return RedirectResponse(f"/portal/{agency}?answered={enquiry_id}", status.HTTP_303_SEE_OTHER)
