"""Wires the workspace: settings, the services' APIs, sign-in, pages, sessions and security headers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from mash_runtime.auth import TokenVerifier
from mash_runtime.clock import Clock, utc_now
from mash_runtime.logs import configure_logging
from mash_runtime.sealing import AtRestCipher
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from starlette import status
from starlette.exceptions import HTTPException as StarletteHTTPException

from mash_workspace.clients import ServiceClients
from mash_workspace.errors import TITLE, UnexpectedErrorPage
from mash_workspace.kept_form import KEPT_PAGE, KeptForms, SignInToSend, fresh_access_token
from mash_workspace.logout import LogoutTokens
from mash_workspace.pages import (
    concern,
    form_kept,
    governance,
    insight,
    portal,
    portal_permissions,
    quality_assurance,
    sessions,
    staff,
)
from mash_workspace.pages.signin import home_for, signin_routes
from mash_workspace.security import SecurityHeadersMiddleware
from mash_workspace.session import ServerSessionMiddleware, SessionStore
from mash_workspace.settings import WorkspaceSettings
from mash_workspace.tokens import AccessTokens
from mash_workspace.web import HERE, Forbidden, NotSignedIn, Pages, sign_in_url, signed_in

GOVUK_ASSETS = HERE / "static" / "govuk"


def create_app(settings: WorkspaceSettings | None = None, clients: ServiceClients | None = None, *,
               database: Any = None, clock: Clock = utc_now,
               oidc_transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The workspace as an ASGI app.

    `database` is where sessions are kept (a MemoryDatabase in tests; by default the MongoDB of the settings),
    `clock` is what the idle and absolute limits and the access token's end are measured with, and
    `oidc_transport` reaches the identity provider for its keys and token endpoint (tests pass the provider's
    app itself).
    """
    settings = settings or WorkspaceSettings()
    configure_logging(settings.service_name, settings.log_level, settings.log_file)
    if not (GOVUK_ASSETS / "application.css").exists():
        raise RuntimeError(f"GOV.UK Frontend assets are missing in {GOVUK_ASSETS}: run `bash infra/assets.sh`")
    clients = clients or ServiceClients.from_settings(settings)
    verifier = TokenVerifier.from_settings(settings, transport=oidc_transport)
    pages = Pages(settings, clients)
    mongo: AsyncMongoClient[dict[str, Any]] | None = None
    if database is None:
        mongo = AsyncMongoClient(settings.mongo_url, tz_aware=True, serverSelectionTimeoutMS=10_000)
        database = mongo[settings.mongo_database]
    session_store = SessionStore(database["sessions"], clock, idle=timedelta(minutes=settings.session_idle_minutes),
                            absolute=timedelta(hours=settings.session_hours))
    issuer = (settings.oidc_issuer or "").rstrip("/")
    logout_tokens = LogoutTokens(issuer, settings.oidc_client_id, transport=oidc_transport) if issuer else None
    cipher = AtRestCipher.from_settings(settings)  # seals the refresh token and a kept form in the session
    access_tokens = AccessTokens(
        issuer=issuer, client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret.get_secret_value(),
        verify=verifier.verify, cipher=cipher, clock=clock, transport=oidc_transport,
        timeout_seconds=settings.api_timeout_seconds) if issuer else None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            await session_store.ensure_indexes()
        except PyMongoError:  # a store without TTL indexes (mongo-java-server): expiry is checked on every read
            logging.getLogger("mash_workspace").warning("session indexes not created", exc_info=True)
        yield
        await clients.close()
        if mongo is not None:
            await mongo.close()

    # Every page first refreshes an access token about to end (or keeps the form being sent: kept_form).
    app = FastAPI(title="MASH workspace", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan,
                  dependencies=[Depends(fresh_access_token)])

    def problem_page(request: Request, reference: str) -> Response:
        return pages.render(request, "error.html", status_code=500, title=TITLE, message="Try again later.",
                            reference=reference)

    # Innermost of the three, so that the problem page has the session (the layout's person) and the headers.
    app.add_middleware(UnexpectedErrorPage, render=problem_page)
    app.add_middleware(ServerSessionMiddleware, store=session_store, keys=settings.session_keys(),
                       secure=settings.cookie_secure)
    provider = urlsplit(issuer)
    app.add_middleware(SecurityHeadersMiddleware, form_origins=(
        (f"{provider.scheme}://{provider.netloc}",) if provider.scheme in ("http", "https") and provider.netloc
        else ()))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.get("/")
    async def home(request: Request) -> Response:
        user = signed_in(request)
        if user is not None:
            return RedirectResponse(home_for(user.roles), status.HTTP_303_SEE_OTHER)
        return pages.render(request, "home.html", title="Start")

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": settings.service_name}

    @app.get("/ready", include_in_schema=False)
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready"})

    # The areas' routers are module-level; what they need per app is in app.state (web.PagesDep, sessions.SessionsDep).
    app.state.pages = pages
    app.state.sessions = session_store
    app.state.access_tokens = access_tokens
    app.state.kept_forms = KeptForms(cipher, clock)
    pages.templates.env.globals.update(insight.TEMPLATE_GLOBALS)
    app.include_router(signin_routes(pages, settings, verifier.verify, session_store, logout_tokens, access_tokens,
                                     transport=oidc_transport))
    for area in (sessions, staff, concern, portal, insight, governance, portal_permissions, quality_assurance,
                 form_kept):
        app.include_router(area.router)

    async def on_not_signed_in(request: Request, _: Exception) -> Response:
        return RedirectResponse(sign_in_url(request), status.HTTP_303_SEE_OTHER)

    async def on_sign_in_to_send(request: Request, _: Exception) -> Response:
        return RedirectResponse(f"/sign-in?next={KEPT_PAGE}", status.HTTP_303_SEE_OTHER)

    async def on_forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Forbidden)
        return pages.render(request, "error.html", status_code=403, title="You cannot see this page",
                            message=exc.message)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        titles = {403: "You cannot do that", 404: "Page not found", 405: "Page not found",
                  422: "Page not found"}
        message = str(exc.detail) if exc.status_code == 403 else "Check the web address is correct."
        return pages.render(request, "error.html", status_code=exc.status_code,
                            title=titles.get(exc.status_code, "Sorry, there is a problem"), message=message)

    async def on_bad_path(request: Request, _: Exception) -> Response:
        # Pages take no JSON: a path or query that does not fit (an unknown form kind) is a page not found.
        return pages.render(request, "error.html", status_code=404, title="Page not found",
                            message="Check the web address is correct.")

    app.add_exception_handler(RequestValidationError, on_bad_path)
    app.add_exception_handler(NotSignedIn, on_not_signed_in)
    app.add_exception_handler(SignInToSend, on_sign_in_to_send)
    app.add_exception_handler(Forbidden, on_forbidden)
    app.add_exception_handler(StarletteHTTPException, on_http)
    return app
