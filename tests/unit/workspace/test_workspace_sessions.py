"""Sessions kept on the server (issue 22, defect 1 and item 1): sign-out, idle and absolute limits, your sessions.

The real workspace app with its sessions in a MemoryDatabase and its time from a FixedClock that the tests
move: a copy of the cookie taken before sign-out opens nothing after it, an idle or too old session ends on
the next request, a person can end their other sessions, and the identity provider's back-channel logout
(the real local provider, infra/oidc/provider.py, in memory) ends a person's sessions.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients
from mash_workspace.session import COOKIE_NAME
from uvicorn.middleware.wsgi import WSGIMiddleware

from tests.unit.workspace.workspace_builders import (
    BASE_URL,
    CLOCK,
    CSRF,
    SESSIONS,
    START,
    FakeHub,
    person,
    session_cookie,
    settings,
    store,
    workspace,
)

pytestmark = pytest.mark.unit

SCREENER = person("screener", sub="sam.screener")
QUEUE = [{"referral_id": "REF-1", "rating": "amber", "state": "awaiting_screening"}]


def queue_hub() -> FakeHub:
    return FakeHub().on("decision", "GET", "/queue", QUEUE)


async def opens_the_queue(client: httpx.AsyncClient, cookie: str) -> bool:
    """Whether `cookie` alone opens the queue (rather than sending the browser to sign in)."""
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, cookie, domain="127.0.0.1")
    response = await client.get("/queue")
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


async def test_a_cookie_copied_before_sign_out_is_refused_after_it() -> None:
    async with workspace(queue_hub(), SCREENER) as client:
        copied = client.cookies[COOKIE_NAME]
        assert await opens_the_queue(client, copied)
        signed_out = await client.post("/sign-out", data={"csrf_token": CSRF})
        assert signed_out.status_code == 303
        assert "max-age=0" in signed_out.headers["set-cookie"].lower()
        assert not await opens_the_queue(client, copied)


async def test_the_cookie_carries_only_the_id_and_the_store_never_holds_it() -> None:
    async with workspace(queue_hub(), SCREENER) as client:
        cookie = client.cookies[COOKIE_NAME]
    fernet = Fernet(settings().session_keys()[0].encode())
    session_id = fernet.decrypt(cookie.encode()).decode()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", session_id), "a random id, nothing else"
    records = [doc for name, doc in SESSIONS.documents() if name == "sessions"]
    assert all(doc["_id"] != session_id for doc in records)
    assert any(doc["_id"] == hashlib.sha256(session_id.encode()).hexdigest() for doc in records)


async def test_an_idle_session_ends_on_the_next_request() -> None:
    async with workspace(queue_hub(), SCREENER) as client:
        cookie = client.cookies[COOKIE_NAME]
        CLOCK.advance(minutes=29)
        assert await opens_the_queue(client, cookie), "29 minutes idle: still signed in"
        CLOCK.advance(minutes=29)
        assert await opens_the_queue(client, cookie), "each request starts the idle time again"
        CLOCK.advance(minutes=30)
        assert not await opens_the_queue(client, cookie), "30 minutes idle: ended"
        CLOCK.advance(minutes=1)
        assert not await opens_the_queue(client, cookie), "and it stays ended"


async def test_a_session_in_use_ends_at_the_absolute_limit() -> None:
    async with workspace(queue_hub(), SCREENER) as client:
        cookie = client.cookies[COOKIE_NAME]
        while CLOCK() - START < timedelta(hours=8) - timedelta(minutes=20):
            CLOCK.advance(minutes=20)
            assert await opens_the_queue(client, cookie), CLOCK()
        CLOCK.advance(minutes=20)
        assert not await opens_the_queue(client, cookie)


async def test_signing_in_gives_a_new_session_id() -> None:
    # What a visitor's session held before signing in (its CSRF token) does not become the signed-in session.
    before = await store().create({"csrf": CSRF, "next": "/queue"})
    assert await store().load(before) is not None
    async with workspace(FakeHub()) as client:
        client.cookies.set(COOKIE_NAME, session_cookie(settings(), before), domain="127.0.0.1")
        response = await client.get("/auth/callback", params={"code": "x", "state": "y"})
    assert response.status_code == 401  # no provider here: the exchange fails, and nothing is signed in
    assert (await store().load(before) or {}).get("user") is None


async def test_a_person_sees_their_sessions_and_ends_the_others() -> None:
    hub = queue_hub()
    async with workspace(hub, SCREENER) as office:
        CLOCK.advance(minutes=5)
        at_home = await _another_cookie(SCREENER, browser="Firefox at home")
        someone_else = await _another_cookie(person("screener", sub="kim.screener"), browser="Kim's browser")
        page = (await office.get("/sessions")).text
        rows = page.split("govuk-table__body", 1)[1].count('<tr class="govuk-table__row">')
        assert rows == 2, "this person's two sessions, nobody else's"
        assert "Firefox at home" in page and "Kim&#39;s browser" not in page and "This session" in page
        handle = re.search(r'name="session" value="([^"]+)"', page)
        assert handle is not None and handle.group(1) != "others"
        ended = await office.post("/sessions/end", data={"csrf_token": CSRF, "session": handle.group(1)})
        assert ended.headers["location"] == "/sessions?ended=1"
        office_cookie = office.cookies[COOKIE_NAME]
        assert not await opens_the_queue(office, at_home)
        assert await opens_the_queue(office, office_cookie)
        assert await opens_the_queue(office, someone_else)


async def test_end_all_other_sessions_keeps_this_one() -> None:
    async with workspace(queue_hub(), SCREENER) as office:
        others = [await _another_cookie(SCREENER) for _ in range(3)]
        ended = await office.post("/sessions/end", data={"csrf_token": CSRF, "session": "others"})
        assert ended.headers["location"] == "/sessions?ended=3"
        mine = office.cookies[COOKIE_NAME]
        assert [await opens_the_queue(office, cookie) for cookie in others] == [False, False, False]
        assert await opens_the_queue(office, mine)


async def _another_cookie(user: dict[str, Any], browser: str = "another browser") -> str:
    session_id = await store().create(json.loads(json.dumps({"csrf": CSRF, "user": user})), browser)
    return session_cookie(settings(), session_id)


def _provider() -> Any:
    """infra/oidc/provider.py, the hub's local identity provider, loaded as a module."""
    path = Path(__file__).resolve().parents[3] / "infra" / "oidc" / "provider.py"
    spec = importlib.util.spec_from_file_location("mash_local_oidc_provider", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_a_back_channel_logout_from_the_provider_ends_the_persons_sessions() -> None:
    provider = _provider()
    issuer = settings().oidc_issuer or ""
    provider_app = WSGIMiddleware(provider.build_app(provider.load_users()))
    to_provider = httpx.ASGITransport(app=provider_app)
    config = settings()
    app = create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(queue_hub().handler)),
                     database=SESSIONS, clock=CLOCK, oidc_transport=to_provider)
    CLOCK.now = START
    screener = await _another_cookie(SCREENER)
    other = await _another_cookie(person("manager", sub="mo.manager"))
    async with httpx.AsyncClient(transport=to_provider, base_url=issuer) as idp, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        issued = (await idp.post("/users/sam.screener/logout")).json()
        forged = issued["logout_token"][:-4] + ("AAAA" if not issued["logout_token"].endswith("AAAA") else "BBBB")
        refused = await client.post("/auth/backchannel-logout", data={"logout_token": forged})
        assert refused.status_code == 400
        assert await opens_the_queue(client, screener), "a forged logout token ends nothing"
        accepted = await client.post("/auth/backchannel-logout", data={"logout_token": issued["logout_token"]})
        assert accepted.status_code == 200
        assert not await opens_the_queue(client, screener)
        assert await opens_the_queue(client, other), "only that person's sessions"


@pytest.mark.parametrize("token", ["", "not-a-jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzYW0ifQ."])
async def test_a_logout_token_that_is_not_one_is_a_400(token: str) -> None:
    async with workspace(FakeHub()) as client:
        response = await client.post("/auth/backchannel-logout", data={"logout_token": token})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
