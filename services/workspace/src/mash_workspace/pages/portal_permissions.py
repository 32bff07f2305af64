"""The agency portal's subject access permission requests: the agency permits or refuses each release.

A person asked the hub for what it holds about them; the hub withholds every sealed item an agency supplied
until that agency says it may be released. The agency sees its own requests only (403 for another's path, here
and again at enquiry), names the item by its own reference, and answers; enquiry audits the read and the answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette import status

from mash_workspace.clients import ApiError
from mash_workspace.pages.portal import _own
from mash_workspace.security import csrf_form
from mash_workspace.web import AgencyId, Identifier, Pages, PagesDep, field_errors, form_text, on_the_form

router = APIRouter()
"""Routes for partner agencies' users: /portal/{agency}/subject-access."""


async def listing(pages: Pages, request: Request, agency: str, refused: tuple[str, ApiError] | None = None) -> Response:
    user = _own(request, agency)
    try:
        found = await pages.clients.enquiry.permission_requests(user.access_token, agency)
    except ApiError as error:
        return pages.refused(request, error)
    errors: dict[str, str] = {}
    if refused is not None:  # the service's refusal on the note of the request it was about
        permission_id, refusal = refused
        index = next((n for n, asked in enumerate(found, 1) if asked.get("permission_id") == permission_id), 1)
        errors = field_errors(refusal, {f"note-{index}": "The reason"}, f"note-{index}",
                              rename=lambda _: f"note-{index}")
    return pages.render(request, "portal/permissions.html", title="Subject access: permission to release",
                        status_code=400 if errors else 200, agency=agency, permissions=found, errors=errors,
                        answered=request.query_params.get("answered"))


@router.get("/portal/{agency}/subject-access")
async def permission_requests(request: Request, pages: PagesDep, agency: AgencyId) -> Response:
    return await listing(pages, request, agency)


@router.post("/portal/{agency}/subject-access/{permission_id}")
async def answer(request: Request, pages: PagesDep, agency: AgencyId, permission_id: Identifier,
                 form: csrf_form) -> Response:
    user = _own(request, agency)
    choice = form_text(form, "decision")
    if choice not in ("permit", "refuse"):
        return RedirectResponse(f"/portal/{agency}/subject-access", status.HTTP_303_SEE_OTHER)
    try:
        await pages.clients.enquiry.answer_permission(user.access_token, agency, permission_id, choice == "permit",
                                                      form_text(form, "note") or None)
    except ApiError as error:
        if not on_the_form(error):
            return pages.refused(request, error)
        return await listing(pages, request, agency, (permission_id, error))
    return RedirectResponse(f"/portal/{agency}/subject-access?answered={choice}", status.HTTP_303_SEE_OTHER)
