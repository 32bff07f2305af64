"""/form-kept: what the person typed before they had to sign in again, to check and send (mash_workspace.kept_form)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette import status

from mash_workspace.kept_form import KEPT_PAGE, KeptForms
from mash_workspace.web import PagesDep, sign_in_url, signed_in

router = APIRouter()
"""The one route: GET /form-kept."""


@router.get(KEPT_PAGE)
async def form_kept(request: Request, pages: PagesDep) -> Response:
    user = signed_in(request)
    if user is None:
        return RedirectResponse(sign_in_url(request), status.HTTP_303_SEE_OTHER)
    kept: KeptForms = request.app.state.kept_forms
    found = kept.take(request, user.subject) if kept is not None else None
    if found is None:
        return pages.render(request, "error.html", status_code=404, title="Nothing was kept",
                            message="There is no form waiting to be sent: it was sent, or kept for too long. "
                                    "Fill it in again.")
    action, fields = found
    rows = [{"key": {"text": name.replace("_", " ").capitalize()}, "value": {"text": value}}
            for name, value in fields if value.strip()]
    return pages.render(request, "form_kept.html", title="Send what you typed", action=action, fields=fields,
                        rows=rows)
