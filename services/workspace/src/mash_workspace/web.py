"""What every page shares: the templates, the signed-in person, role checks and error pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from jinja2 import Environment as JinjaEnvironment
from mash_runtime.http import PathIdentifier
from mash_runtime.roles import Role
from mash_schemas.common import BragRating
from mash_schemas.text import IDENTIFIER_PATTERN, public_message
from starlette import status
from starlette.datastructures import FormData

from mash_workspace.clients import ApiError, ServiceClients
from mash_workspace.security import csrf_token
from mash_workspace.settings import WorkspaceSettings

HERE = Path(__file__).parent
# A path parameter that cannot be an identifier the services hand out (mash_schemas.text.IDENTIFIER_PATTERN)
# is refused at the edge (404 page) before any service is asked: put into a service's URL it could only fail
# there (a control character made httpx refuse the URL: a 500) or, with a slash, address another resource.
IDENTIFIER = IDENTIFIER_PATTERN
AGENCY = r"^[a-z][a-z0-9-]{1,39}$"
Identifier = PathIdentifier  # the services check their own paths with the same type (mash_runtime.http)
AgencyId = Annotated[str, PathParam(pattern=AGENCY)]
HUB_ROLES = frozenset({Role.SCREENER, Role.MANAGER, Role.ANALYST})
SCREENING_ROLES = frozenset({Role.SCREENER, Role.MANAGER})

BRAG_TAG = {BragRating.RED.value: "govuk-tag--red", BragRating.AMBER.value: "govuk-tag--orange",
            BragRating.GREEN.value: "govuk-tag--green", BragRating.BLUE.value: "govuk-tag--blue"}


@dataclass(frozen=True)
class SignedIn:
    """The person signed in, as their token says: what the pages show and which links they offer."""

    subject: str
    name: str
    roles: frozenset[Role]
    agency: str | None
    access_token: str

    @property
    def is_hub_staff(self) -> bool:
        """Screeners, managers and analysts work in the hub."""
        return bool(self.roles & HUB_ROLES)

    @property
    def is_manager(self) -> bool:
        """MASH managers open enquiries and decide."""
        return Role.MANAGER in self.roles

    @property
    def may_screen(self) -> bool:
        """Screeners and managers screen and route."""
        return bool(self.roles & SCREENING_ROLES)


class NotSignedIn(Exception):
    """The page needs a signed-in person; they are sent to sign in and brought back."""


class Forbidden(Exception):
    """The signed-in person's role may not use this page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def form_text(form: FormData, name: str) -> str:
    """A form field's text, trimmed; '' when absent or a file."""
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def on_the_form(error: ApiError) -> bool:
    """Whether a service's refusal is about what was typed, to be shown on the form's fields.

    A 4xx other than 401 (sign in again), 403 and 404 (the page says so and shows nothing) is about the
    request: the person can correct it. A 5xx, or a service that could not be reached (503 from the clients),
    is not theirs to fix: that is the problem page (502).
    """
    return 400 <= error.status < 500 and error.status not in (401, 403, 404)


def field_errors(error: ApiError, labels: dict[str, str], fallback: str,
                 rename: Callable[[str], str | None] | None = None) -> dict[str, str]:
    """A service's refusal as the page's error summary: each field it named, as the input the page has.

    `labels` names each input as its message should (GOV.UK: "Why you are looking must be 3 characters or
    more"); `rename` maps a service's field path to an input (default: the path's last named part). A field
    the page has no input for, or a refusal naming no field, goes on `fallback` with the service's message.
    """
    found: dict[str, str] = {}
    for path, message in error.fields.items():
        name = rename(path) if rename else next((p for p in reversed(path.split(".")) if not p.isdigit()), path)
        if name not in labels:
            name = fallback
        found.setdefault(name, public_message(labels[name], message))
    return found or {fallback: error.message}


def signed_in(request: Request) -> SignedIn | None:
    """The person in the session, or None."""
    user = request.session.get("user")
    if not isinstance(user, dict):
        return None
    return SignedIn(subject=user["sub"], name=user.get("name") or user["sub"], roles=roles_of(user.get("roles", [])),
                    agency=user.get("agency"), access_token=user["access_token"])


def roles_of(names: list[str]) -> frozenset[Role]:
    """The session's role names as the one `Role`; a name the hub does not know (an old session) grants nothing."""
    known = {role.value: role for role in Role}
    return frozenset(known[name] for name in names if name in known)


def sign_in_url(request: Request) -> str:
    """/sign-in, bringing the person back to this page (its filters too) once signed in.

    A form's POST address is not a page (many answer only POST), so after a refused POST the way back is the
    page the form was on: the Referer when it is one of ours, else the home page. What was typed is not kept;
    the person fills the form in again, signed in.
    """
    if request.method in ("GET", "HEAD"):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    else:
        here = _page_of_the_form(request)
    return f"/sign-in?next={quote(here, safe='/')}"


def _page_of_the_form(request: Request) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    ours = referer.netloc == request.url.netloc and referer.scheme in ("http", "https")
    if not ours or not referer.path.startswith("/") or referer.path.startswith("//"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


def require(request: Request, *roles: Role) -> SignedIn:
    """The signed-in person holding one of `roles`; NotSignedIn or Forbidden otherwise."""
    user = signed_in(request)
    if user is None:
        raise NotSignedIn
    if not user.roles & set(roles):
        raise Forbidden(f"This page is for: {', '.join(sorted(roles))}. You are signed in as {user.name}.")
    return user


def _environment() -> JinjaEnvironment:
    loader = ChoiceLoader([
        FileSystemLoader(HERE / "templates"),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    env = JinjaEnvironment(loader=loader, autoescape=select_autoescape(["html"]), trim_blocks=True,
                           lstrip_blocks=True)
    env.globals["brag_tag"] = BRAG_TAG
    env.filters["words"] = lambda value: str(value or "").replace("_", " ")
    env.filters["when"] = _when
    env.filters["agency_item"] = lambda agency, chosen: {
        "value": agency["agency"], "text": agency["display_name"], "checked": agency["agency"] in chosen}
    env.filters["outcome_item"] = lambda outcome, picked: {
        "value": outcome[0], "text": outcome[1], "checked": outcome[0] == picked}
    env.filters["candidate_item"] = _candidate_item
    env.filters["scale_item"] = lambda value, chosen: {"value": value, "text": value, "checked": value == chosen}
    env.filters["checked_in"] = lambda item, chosen: {**item, "checked": item["value"] in chosen}
    return env


def _candidate_item(choice: dict[str, Any], chosen: list[str]) -> dict[str, Any]:
    """A hand-off candidate as a checkbox, from decision's labelled candidate (`handoff_choices` of its case view).

    Decision offers only items that may leave the hub, labelled as the signed-in person may see them; a sensitive
    item its agency has not released is listed apart (decision's `withheld_items`), never as a box to tick.
    """
    agency = choice["agency"]
    hint = "Shareable"
    if choice["sealed"]:
        wording = choice.get("release_wording")
        hint = (f"Sensitive: {agency} permits it as “{wording}”" if wording
                else f"Sensitive: {agency} has not permitted release; the hand-off will say whom to ask")
    return {"value": choice["key"], "text": f"{agency.capitalize()}: {choice['summary']}",
            "checked": choice["key"] in chosen, "hint": {"text": hint}}


def _when(value: Any) -> str:
    """An ISO time as a person reads it: '26 Nov 2026, 14:05' (UTC)."""
    from datetime import datetime

    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%-d %b %Y, %H:%M")


class Pages:
    """Renders pages with what every page needs: the council, the person, the CSRF token; holds the clients."""

    def __init__(self, settings: WorkspaceSettings, clients: ServiceClients) -> None:
        self.settings = settings
        self.clients = clients
        self.templates = Jinja2Templates(env=_environment())

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """A page, with the layout's context filled in."""
        context.setdefault("errors", {})
        return self.templates.TemplateResponse(
            request, template, {
                "council": self.settings.council_name,
                "hub_name": self.settings.hub_name,
                "user": signed_in(request),
                "csrf_token": csrf_token(request),
                **context,
            }, status_code=status_code)

    def refused(self, request: Request, error: ApiError) -> Response:
        """A service's refusal as a page: 401 signs the person in again; 403/404 say so and show nothing.

        Another 4xx on a page with no form (a link with a value the service refuses) says what the service
        said, with its status; only a service that failed or could not be reached is a 502.
        """
        if error.status == status.HTTP_401_UNAUTHORIZED:
            request.session.pop("user", None)
            return RedirectResponse(sign_in_url(request), status.HTTP_303_SEE_OTHER)
        titles = {403: "You cannot see this page", 404: "Page not found"}
        if error.status in titles:
            return self.render(request, "error.html", status_code=error.status, title=titles[error.status],
                               message=error.message)
        if on_the_form(error):
            return self.render(request, "error.html", status_code=error.status, title="There is a problem",
                               message=error.message)
        return self.render(request, "error.html", status_code=502, title="Sorry, there is a problem with the service",
                           message="Try again later.")


def pages_of(request: Request) -> Pages:
    """The app's Pages (create_app keeps them in app.state), so the areas' routers can be module-level."""
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(pages_of)]
