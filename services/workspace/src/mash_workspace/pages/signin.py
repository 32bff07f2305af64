"""Signing in with OpenID Connect (authorization code with PKCE, via authlib) and signing out.

The workspace is a confidential client of the council's identity provider. After the code exchange
it checks the access token exactly as the services will (issuer, audience, signature from the JWKS,
expiry), and keeps in the session (on the server: mash_workspace.session) only what the pages need: who,
their roles and agency, the token it forwards to the services, and the ID token and provider session id
that signing out needs. Signing in gives the session a new id (no fixation).

Signing out deletes the session, then ends the session at the provider too where it offers RP-initiated
logout (`end_session_endpoint` in its discovery document), coming back to /signed-out. The provider may
also end the person's hub sessions itself: /auth/backchannel-logout (mash_workspace.logout).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from mash_runtime.auth import Principal
from mash_runtime.roles import Role
from starlette import status

from mash_workspace.kept_form import carry_over
from mash_workspace.logout import LogoutTokenRefused, LogoutTokens
from mash_workspace.security import csrf_form
from mash_workspace.session import ROTATE, SessionStore
from mash_workspace.settings import WorkspaceSettings
from mash_workspace.tokens import AccessTokens
from mash_workspace.web import HUB_ROLES, Pages, signed_in

VerifyToken = Callable[[str], Awaitable[Principal]]
log = logging.getLogger("mash_workspace.signin")


def _safe_next(target: str | None) -> str:
    r"""Only a path on this site: never an open redirect to somewhere else.

    Browsers read a backslash as a slash and drop tabs and newlines from a URL, so `/\evil.example`
    and `/\t/evil.example` would reach another site as surely as `//evil.example`: refuse them too.
    """
    if (not target or not target.startswith("/") or "\\" in target
            or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)):
        return "/"
    if target.startswith("//") or urlsplit(target).netloc:
        return "/"
    return target


def home_for(roles: frozenset[Role] | set[Role]) -> str:
    """Where a person lands after signing in."""
    if roles & HUB_ROLES:
        return "/queue"
    if Role.AGENCY in roles:
        return "/portal"
    if Role.PRACTICE_LEAD in roles:
        return "/dip-sample"
    return "/"


def signin_routes(pages: Pages, settings: WorkspaceSettings, verify: VerifyToken, sessions: SessionStore,
                  logout_tokens: LogoutTokens | None, access_tokens: AccessTokens | None = None,
                  transport: httpx.AsyncBaseTransport | None = None) -> APIRouter:
    """/sign-in, the provider's callback, /sign-out and the provider's back-channel logout.

    `transport` reaches the provider (tests pass the provider's app itself, so a sign-in runs in memory).
    """
    router = APIRouter()
    oauth = OAuth()
    issuer = (settings.oidc_issuer or "").rstrip("/")
    oauth.register(
        "hub",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256",
                       **({"transport": transport} if transport is not None else {})},
    )
    client: Any = oauth.create_client("hub")
    callback = f"{settings.public_url.rstrip('/')}/auth/callback"

    @router.get("/sign-in")
    async def sign_in(request: Request, next: str | None = None) -> Response:
        if not issuer:  # no identity provider configured (MASH_OIDC_ISSUER): say so, not a server error
            return pages.render(request, "error.html", status_code=503, title="Sign-in is not available",
                                message="This hub has no identity provider set up yet. You can still report a "
                                        "concern without signing in.")
        request.session["next"] = _safe_next(next)
        try:
            response: Response = await client.authorize_redirect(request, callback)
        except (httpx.HTTPError, OAuthError, ValueError):  # the provider cannot be reached or answers nonsense
            log.warning("identity provider unavailable at sign-in", exc_info=True)
            return pages.render(request, "error.html", status_code=503, title="Sign-in is not available",
                                message="The council's sign-in service is not answering. Try again in a few "
                                        "minutes. You can still report a concern without signing in.")
        return response

    @router.get("/auth/callback")
    async def signed_in_callback(request: Request) -> Response:
        try:
            token = await client.authorize_access_token(request)
            principal = await verify(str(token["access_token"]))
        except (OAuthError, PermissionError, KeyError, httpx.HTTPError, ValueError) as error:
            return pages.render(request, "error.html", status_code=401, title="You could not be signed in",
                                message=f"Sign-in was refused ({type(error).__name__}). Try again.")
        userinfo = token.get("userinfo") or {}
        roles = sorted(role.value for role in principal.roles)  # the session keeps names; signed_in() reads Roles
        target = request.session.pop("next", None)
        kept = carry_over(request.session, principal.subject)  # a form the same person was sending (kept_form)
        request.session.clear()  # nothing else of the signed-out visit carries over, and the id changes
        request.scope[ROTATE] = True
        request.session.update(kept)
        request.session["user"] = {
            "sub": principal.subject, "name": principal.name or userinfo.get("name") or principal.subject,
            "roles": roles, "agency": principal.agency, "access_token": token["access_token"],
        }
        if access_tokens is not None:  # the token's end, and the refresh token (sealed), for a silent refresh
            access_tokens.remember(request.session, dict(token))
        if isinstance(token.get("id_token"), str):
            request.session["id_token"] = token["id_token"]
        if isinstance(userinfo.get("sid"), str):
            request.session["provider_sid"] = userinfo["sid"]
        return RedirectResponse(_safe_next(target) if target and target != "/" else home_for(set(principal.roles)),
                                status.HTTP_303_SEE_OTHER)

    @router.post("/sign-out")
    async def sign_out(request: Request, form: csrf_form) -> Response:
        del form
        id_token = request.session.get("id_token")
        request.session.clear()  # the record is deleted: a copy of the cookie opens nothing from now on
        back = f"{settings.public_url.rstrip('/')}/signed-out"
        end_session = await _end_session_endpoint()
        if end_session is None:
            return RedirectResponse("/signed-out", status.HTTP_303_SEE_OTHER)
        query = {"post_logout_redirect_uri": back, "client_id": settings.oidc_client_id,
                 **({"id_token_hint": id_token} if isinstance(id_token, str) else {})}
        return RedirectResponse(f"{end_session}?{urlencode(query)}", status.HTTP_303_SEE_OTHER)

    async def _end_session_endpoint() -> str | None:
        """The provider's RP-initiated logout endpoint, if it offers one (and can be asked now)."""
        if not issuer:
            return None
        try:
            metadata = await client.load_server_metadata()
        except Exception:  # the provider is down: the hub's session is ended all the same
            log.warning("identity provider metadata unavailable at sign-out", exc_info=True)
            return None
        endpoint = metadata.get("end_session_endpoint")
        return endpoint if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")) else None

    @router.post("/auth/backchannel-logout")
    async def backchannel_logout(request: Request) -> Response:
        """The provider ends a person's hub sessions (OIDC Back-Channel Logout 1.0: 200, or 400 with a reason)."""
        if logout_tokens is None:
            return JSONResponse({"error": "invalid_request", "error_description": "no identity provider"}, 400,
                                headers={"Cache-Control": "no-store"})
        form = await request.form()
        token = form.get("logout_token")
        try:
            if not isinstance(token, str):
                raise LogoutTokenRefused("logout_token is required")
            subject, provider_sid = await logout_tokens.verify(token)
        except LogoutTokenRefused as refused:
            return JSONResponse({"error": "invalid_request", "error_description": str(refused)}, 400,
                                headers={"Cache-Control": "no-store"})
        ended = await sessions.end_at_provider(subject, provider_sid)
        log.info("back-channel logout", extra={"fields": {"subject": subject, "ended": ended}})
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    @router.get("/signed-out")
    async def after_sign_out(request: Request) -> Response:
        if signed_in(request) is not None:
            return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
        return pages.render(request, "signed_out.html", title="You have signed out")

    return router
