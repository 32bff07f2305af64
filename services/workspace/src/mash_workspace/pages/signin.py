"""Signing in with OpenID Connect (authorization code with PKCE, via authlib) and signing out.

The workspace is a confidential client of the council's identity provider. After the code exchange
it checks the access token exactly as the services will (issuer, audience, signature from the JWKS,
expiry), and keeps in the encrypted session only what the pages need: who, their roles and agency,
and the token it forwards to the services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from mash_runtime.auth import Principal
from starlette import status

from mash_workspace.security import csrf_form
from mash_workspace.settings import WorkspaceSettings
from mash_workspace.web import Pages, signed_in

VerifyToken = Callable[[str], Awaitable[Principal]]


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


def home_for(roles: frozenset[str] | set[str]) -> str:
    """Where a person lands after signing in."""
    if roles & {"screener", "manager", "analyst"}:
        return "/queue"
    if "agency" in roles:
        return "/portal"
    return "/"


def signin_routes(pages: Pages, settings: WorkspaceSettings, verify: VerifyToken) -> APIRouter:
    """/sign-in, the provider's callback and /sign-out."""
    router = APIRouter()
    oauth = OAuth()
    issuer = (settings.oidc_issuer or "").rstrip("/")
    oauth.register(
        "hub",
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
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
        response: Response = await client.authorize_redirect(request, callback)
        return response

    @router.get("/auth/callback")
    async def signed_in_callback(request: Request) -> Response:
        try:
            token = await client.authorize_access_token(request)
            principal = await verify(str(token["access_token"]))
        except (OAuthError, PermissionError, KeyError) as error:
            return pages.render(request, "error.html", status_code=401, title="You could not be signed in",
                                message=f"Sign-in was refused ({type(error).__name__}). Try again.")
        userinfo = token.get("userinfo") or {}
        roles = sorted(role.value for role in principal.roles)
        request.session["user"] = {
            "sub": principal.subject, "name": principal.name or userinfo.get("name") or principal.subject,
            "roles": roles, "agency": principal.agency, "access_token": token["access_token"],
        }
        target = request.session.pop("next", None)
        return RedirectResponse(_safe_next(target) if target and target != "/" else home_for(set(roles)),
                                status.HTTP_303_SEE_OTHER)

    @router.post("/sign-out")
    async def sign_out(request: Request, form: csrf_form) -> Response:
        del form
        request.session.clear()
        return RedirectResponse("/signed-out", status.HTTP_303_SEE_OTHER)

    @router.get("/signed-out")
    async def after_sign_out(request: Request) -> Response:
        if signed_in(request) is not None:
            return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
        return pages.render(request, "signed_out.html", title="You have signed out")

    return router
