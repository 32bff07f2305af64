"""A person's own sessions: where they are signed in, and ending the ones they do not want.

Someone who signed in on a shared office computer and walked away, or whose cookie leaked, can end that
session from anywhere they are signed in; the record is deleted, so the other browser's cookie opens
nothing. Only the person's own sessions are listed or ended (by a handle that is not the session's id).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette import status

from mash_workspace.security import csrf_form
from mash_workspace.session import SessionStore
from mash_workspace.web import NotSignedIn, PagesDep, form_text, signed_in


def sessions_of(request: Request) -> SessionStore:
    """The app's session store (create_app keeps it in app.state)."""
    sessions: SessionStore = request.app.state.sessions
    return sessions


SessionsDep = Annotated[SessionStore, Depends(sessions_of)]
router = APIRouter()
"""/sessions and /sessions/end."""


@router.get("/sessions")
async def listing(request: Request, pages: PagesDep, sessions: SessionsDep) -> Response:
    user = signed_in(request)
    if user is None:
        raise NotSignedIn
    found = await sessions.of(user.subject, request.scope.get("session_id"))
    ended = request.query_params.get("ended")
    return pages.render(request, "sessions.html", title="Your sessions", sessions=found,
                        ended=int(ended) if ended and ended.isdigit() else None,
                        idle_minutes=int(sessions.idle.total_seconds() // 60),
                        absolute_hours=int(sessions.absolute.total_seconds() // 3600))


@router.post("/sessions/end")
async def end(request: Request, form: csrf_form, sessions: SessionsDep) -> Response:
    user = signed_in(request)
    if user is None:
        raise NotSignedIn
    current = request.scope.get("session_id")
    chosen = form_text(form, "session")
    ended = await sessions.end_of(user.subject, None if chosen == "others" else chosen, keep=current)
    return RedirectResponse(f"/sessions?ended={ended}", status.HTTP_303_SEE_OTHER)

