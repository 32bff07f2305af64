"""The workspace driven in memory: the real app, a fake hub behind httpx.MockTransport, signed-in sessions.

`FakeHub` answers the workspace's calls to intake, decision, enquiry, notify and insight (each at its own
host, e.g. http://decision.test) from canned responses and records every call, so a test can say
both what the page showed and what the services were asked (or that they were asked nothing). Every
canned answer must be one the owning service could give by its published OpenAPI, and every request the
workspace sends to an operation canned as a success one it would take (tests/unit/workspace/published_openapi.py).
A signed-in person is a session record in the app's (in-memory) session database and a cookie holding
its id, as the sign-in callback leaves them, so no identity provider is needed; the app's clock is a
FixedClock that a test moves to pass the idle or absolute limit.

One app serves every test (its templates compile once); each test puts its own FakeHub behind it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import Fernet, MultiFernet
from fastapi import FastAPI
from mash_decision.domain.case_file_views import HandoffChoice
from mash_runtime.clock import FixedClock
from mash_runtime.memory_store import MemoryDatabase
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients
from mash_workspace.session import COOKIE_NAME, SessionStore
from mash_workspace.settings import WorkspaceSettings

from tests.unit.workspace.published_openapi import answer_problems, request_problems

CSRF = "known-token"
BASE_URL = "https://127.0.0.1"  # https, so the client's cookie jar sends back the Secure session cookie
SERVICES = ("intake", "decision", "enquiry", "notify", "insight")


def settings() -> WorkspaceSettings:
    """Test settings with each service at a host of its own."""
    return WorkspaceSettings(
        environment="test",
        oidc_issuer="https://idp.test",
        public_url=BASE_URL,
        log_level="WARNING",
        **{f"{service}_url": f"http://{service}.test" for service in SERVICES},
    )


@dataclass
class Call:
    """One request the workspace made to a service."""

    service: str
    method: str
    path: str
    params: dict[str, str]
    headers: httpx.Headers
    body: Any

    @property
    def bearer(self) -> str | None:
        value = self.headers.get("authorization")
        return value.removeprefix("Bearer ") if value else None


@dataclass
class FakeHub:
    """Canned answers by (service, method, path); every call recorded; anything else is a 404."""

    routes: dict[tuple[str, str, str], tuple[int, Any]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def on(self, service: str, method: str, path: str, body: Any = None, status: int = 200) -> FakeHub:
        """Answer `method path` on `service` with `body`: refused here if the service could never answer so."""
        problems = answer_problems(service, method, path, status, body)
        assert not problems, "a canned answer the service could never give:\n" + "\n".join(problems)
        self.routes[(service, method, path)] = (status, body)
        return self

    def handler(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.split(".")[0]
        body = json.loads(request.content) if request.content else None
        self.calls.append(Call(service, request.method, request.url.path, dict(request.url.params),
                               request.headers, body))
        status, answer = self.routes.get(
            (service, request.method, request.url.path), (404, {"error": "not_found", "message": "no such thing"}))
        if status < 400:  # the real service would have refused a request that does not fit what it publishes
            self.drift += request_problems(service, request.method, request.url.path, body)
        return httpx.Response(status, json=answer)

    def called(self, service: str, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if (c.service, c.method, c.path) == (service, method, path)]


def session_cookie(workspace: WorkspaceSettings, session_id: str) -> str:
    """The session cookie's value for `session_id`, encrypted with `workspace`'s key (the cookie holds only the id)."""
    fernet = MultiFernet([Fernet(key.encode()) for key in workspace.session_keys()])
    return fernet.encrypt(session_id.encode()).decode()


# The shared app's session database and clock: a test signs people in by writing their session record, and
# moves the clock to pass the idle or absolute limit. Each test starts at the same moment (see `workspace`).
SESSIONS = MemoryDatabase("workspace")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLOCK = FixedClock(START)


def store() -> SessionStore:
    """The shared app's session store (the same records, limits from the test settings)."""
    config = settings()
    return SessionStore(SESSIONS["sessions"], CLOCK, idle=timedelta(minutes=config.session_idle_minutes),
                        absolute=timedelta(hours=config.session_hours))


def person(role: str, agency: str | None = None, sub: str | None = None) -> dict[str, Any]:
    """A signed-in person's session entry, as the sign-in callback writes it."""
    return {"sub": sub or f"{role}-1", "name": f"Demo {role.capitalize()}", "roles": [role],
            "agency": agency, "access_token": f"token-of-{sub or role}"}


@dataclass
class _Behind:
    """The FakeHub the shared app is talking to now."""

    hub: FakeHub = field(default_factory=FakeHub)

    def handler(self, request: httpx.Request) -> httpx.Response:
        return self.hub.handler(request)


_BEHIND = _Behind()


@functools.cache
def _app() -> FastAPI:
    config = settings()
    return create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(_BEHIND.handler)),
                      database=SESSIONS, clock=CLOCK)


def app() -> FastAPI:
    """The shared workspace app (sessions in SESSIONS, time from CLOCK)."""
    return _app()


async def signed_in_cookie(user: dict[str, Any] | None = None, **session: Any) -> str:
    """A session (with the known CSRF token) for `user`, as the sign-in callback would leave it: its cookie."""
    content = {"csrf": CSRF, **session} | ({"user": user} if user is not None else {})
    return session_cookie(settings(), await store().create(json.loads(json.dumps(content)), "unit-test"))


@asynccontextmanager
async def workspace(hub: FakeHub, user: dict[str, Any] | None = None,
                    **session: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the real workspace app in front of `hub`, signed in as `user` (or signed out)."""
    _BEHIND.hub = hub
    CLOCK.now = START
    await SESSIONS["sessions"].delete_many({})  # each test starts with no sessions but its own
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url=BASE_URL) as client:
        if user is not None or session:
            client.cookies.set(COOKIE_NAME, await signed_in_cookie(user, **session), domain="127.0.0.1")
        yield client
    assert not hub.drift, "requests the service would refuse, answered as a success here:\n" + "\n".join(hub.drift)


def case_view(referral_id: str = "REF-1", state: str = "awaiting_decision") -> dict[str, Any]:
    """What decision's GET /cases/{id} returns to a manager: a referral with one police finding and its clock."""
    return {
        "case_file": {
            "referral_id": referral_id,
            "state": state,
            "referral": {
                "referral_id": referral_id, "source": "web", "received_at": "2026-03-04T09:30:00+00:00",
                "referrer": {"name": "Sam Teacher", "role": "designated safeguarding lead", "agency": "Hill School"},
                "subjects": [{"subject_id": "S1", "kind": "child", "given_name": "Lily", "family_name": "Evans",
                              "date_of_birth": "2018-06-01", "address": None}],
                "household": [], "matches": [],
                "concern": {"categories": ["neglect"], "narrative": "Often hungry at school.", "actions_taken": None},
                "consent": {"status": "given", "reason": None},
                "suggested_rating": {"rating": "amber", "reasons": ["neglect"]},
            },
            "screening": {"confirmed_rating": "amber"},
            "decision": None, "enquiry": None, "enquiry_outcome": None, "addenda": [], "history": [],
        },
        "recommendation": {"outcome": "early_help", "rating": "amber", "receiving_service": "early-help",
                           "reasons": ["amber after screening"]},
        "handoff_candidates": [], "handoff_choices": [],
        "timescale": {"status": "on_track", "minutes_left": 600, "due_at": "2026-03-05T09:30:00+00:00"},
    }


def offering(view: dict[str, Any], *choices: HandoffChoice) -> dict[str, Any]:
    """`view` with these hand-off candidates, labelled as decision labels them (its own `HandoffChoice`)."""
    view["handoff_candidates"] = [choice.key for choice in choices]
    view["handoff_choices"] = [choice.model_dump(mode="json") for choice in choices]
    return view


def choice(key: str, summary: str, *, sealed: bool = False, release_wording: str | None = None) -> HandoffChoice:
    """One labelled hand-off candidate, keyed 'agency:item_id'."""
    agency, item_id = key.split(":", 1)
    return HandoffChoice(key=key, agency=agency, item_id=item_id, summary=summary, sealed=sealed,
                         release_wording=release_wording)
