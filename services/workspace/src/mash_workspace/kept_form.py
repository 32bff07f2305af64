"""What a person typed is never lost to an ended sign-in: a silent refresh first, else the form kept, sealed.

Before every page (`fresh_access_token`, an app-wide dependency) the workspace refreshes an access token that
is about to end (mash_workspace.tokens). When it cannot -- the refresh token expired or was revoked, the
account was disabled -- the person must sign in again. On a GET that is all: sign in, and come back to the
page. On a POST the person has typed something (a screening, a decision's reasons, a subject access request):
the form, once its CSRF token has been checked, is kept in the session for `KEEP_FOR`, sealed with the hub's
sealing keys so the session database holds nothing of it in clear, bound to the person who typed it. After
signing in again the person lands on /form-kept, which shows what they typed and sends it, unchanged, to the
address it was going to, with a new CSRF token: one press and nothing is lost.

Why one page for every form instead of each form re-rendered with its values: the workspace has some twenty
forms, each filled from the services when it is shown; a stash that every form page learns to read would be
twenty changes, each a chance to lose a field. The kept form replays the POST the person already made, so
every form, and every field on it, comes back the same way; and the person sees what will be sent first.
Kept only when the same person signs in again (on a shared computer another person finds nothing), shown
once, gone after `KEEP_FOR` or when the session ends.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from mash_runtime.clock import Clock
from mash_runtime.sealing import AtRestCipher, SealBroken

from mash_workspace.security import CSRF_FIELD, checked_form
from mash_workspace.tokens import REFRESH_TOKEN, AccessTokens, RefreshImpossible

KEPT_FORM = "kept_form"  # the session's key for the sealed form
KEEP_FOR = timedelta(minutes=15)
KEPT_PAGE = "/form-kept"
# Pages that call no service as the person: nothing to refresh for (and signing out must never ask to sign in).
NO_REFRESH = frozenset({"/sign-in", "/sign-out", "/signed-out", "/auth/callback", "/auth/backchannel-logout",
                        KEPT_PAGE, "/health", "/ready"})
log = logging.getLogger("mash_workspace.kept_form")


class SignInToSend(Exception):
    """The sign-in ended while a form was being sent; it is kept, and the person signs in to send it."""


class KeptForms:
    """Seals a POSTed form into the session and opens it again for the same person, within KEEP_FOR."""

    def __init__(self, cipher: AtRestCipher, clock: Clock) -> None:
        self._cipher = cipher
        self._clock = clock

    async def keep(self, request: Request, subject: str) -> None:
        """Keep the request's form (its CSRF token checked first: a cross-site POST is a 403, not kept)."""
        form = await checked_form(request)
        fields = [(name, value) for name, value in form.multi_items() if name != CSRF_FIELD and isinstance(value, str)]
        action = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        request.session[KEPT_FORM] = {
            "subject": subject, "kept_at": self._clock().isoformat(),
            "sealed": self._cipher.seal(json.dumps({"action": action, "fields": fields})),
        }

    def take(self, request: Request, subject: str) -> tuple[str, list[tuple[str, str]]] | None:
        """The kept form's address and fields, if `subject` kept it within KEEP_FOR; it is removed either way."""
        kept = request.session.pop(KEPT_FORM, None)
        if not isinstance(kept, dict) or kept.get("subject") != subject:
            return None
        try:
            kept_at = datetime.fromisoformat(str(kept["kept_at"]))
            opened = json.loads(self._cipher.open(str(kept["sealed"])))
        except (KeyError, ValueError, SealBroken):
            log.warning("a kept form could not be opened")
            return None
        if self._clock() - kept_at > KEEP_FOR:
            return None
        action = str(opened["action"])
        if not action.startswith("/") or action.startswith("//"):
            return None
        return action, [(str(name), str(value)) for name, value in opened["fields"]]


def carry_over(before: dict[str, Any], subject: str) -> dict[str, Any]:
    """What of a signed-out session's kept form survives signing in as `subject`: all of it if theirs, else nothing."""
    kept = before.get(KEPT_FORM)
    return {KEPT_FORM: kept} if isinstance(kept, dict) and kept.get("subject") == subject else {}


async def fresh_access_token(request: Request) -> None:
    """Before any page: refresh an access token about to end; if that is impossible, sign in again, keeping a form.

    The app's `AccessTokens` and `KeptForms` are in app.state (None without an identity provider).
    """
    tokens: AccessTokens | None = request.app.state.access_tokens
    if tokens is None or request.url.path in NO_REFRESH or not tokens.due(request.session):
        return
    try:
        await tokens.refresh(request.session)
        return
    except RefreshImpossible as impossible:
        log.info("access token not refreshed: %s", impossible)
    user = request.session.get("user") or {}
    if request.method == "POST":
        kept: KeptForms = request.app.state.kept_forms
        await kept.keep(request, str(user.get("sub")))
    for name in ("user", REFRESH_TOKEN, "id_token", "provider_sid"):
        request.session.pop(name, None)
    if request.method == "POST":
        raise SignInToSend
    # A GET goes on: a page that needs a person now finds none and sends them to sign in and back.
