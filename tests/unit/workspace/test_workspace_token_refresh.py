"""An access token that ends during a session (issue 22, item 1): refreshed silently, or the form kept.

The real workspace app, signed in through the real local identity provider (infra/oidc/provider.py, in
memory: the whole authorization-code flow, then refresh tokens at its token endpoint), in front of a fake
hub that records the bearer token each call carried. The app's clock is moved past the access token's end;
the provider's tokens are real, signed at the real time, and verified as the services verify them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from mash_runtime.clock import FixedClock
from mash_runtime.memory_store import MemoryDatabase
from mash_workspace.app import create_app
from mash_workspace.clients import ServiceClients
from mash_workspace.kept_form import KEEP_FOR
from uvicorn.middleware.wsgi import WSGIMiddleware

from tests.unit.workspace.test_workspace_sessions import _provider
from tests.unit.workspace.workspace_builders import BASE_URL, FakeHub, settings

pytestmark = pytest.mark.unit

TOKEN_SECONDS = 300  # the provider's access tokens here; the workspace refreshes 60 s before the end
TYPED = {"given_name": "Kai", "family_name": "Turner-Refresh", "date_of_birth": "", "person_ref": "LA-991",
         "reason": "letter of 2 March, typed while the token ran out"}
STARTED = {"request_id": "SAR-2"}


@dataclass
class Signed:
    """A browser signed in to the workspace through the provider, and what the test reaches behind it."""

    client: httpx.AsyncClient
    provider: httpx.AsyncClient
    clock: FixedClock
    sessions: MemoryDatabase
    hub: FakeHub

    async def csrf(self) -> str:
        page = (await self.client.get("/subject-access")).text
        return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]

    def stored(self) -> str:
        """Every session record, as text: what someone reading the workspace's database would see."""
        return json.dumps([doc for _, doc in self.sessions.documents()], default=str)


def _hub() -> FakeHub:
    return (FakeHub().on("decision", "GET", "/subject-access-requests", [])
            .on("decision", "POST", "/subject-access-requests", STARTED, status=201))


@asynccontextmanager
async def signed_in(user: str = "morgan.manager") -> AsyncIterator[Signed]:
    """`user` signed in through the provider's own pages, the app's clock at the real time (the tokens' time)."""
    provider = _provider()
    to_provider = httpx.ASGITransport(app=WSGIMiddleware(provider.build_app(provider.load_users(),
                                                                             token_max_age=TOKEN_SECONDS)))
    config = settings()
    hub, sessions = _hub(), MemoryDatabase("workspace")
    clock = FixedClock(datetime.now(UTC))
    app = create_app(config, clients=ServiceClients.from_settings(config, transport=httpx.MockTransport(hub.handler)),
                     database=sessions, clock=clock, oidc_transport=to_provider)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client, \
            httpx.AsyncClient(transport=to_provider, base_url=config.oidc_issuer or "") as idp:
        await _sign_in(client, idp, user, "/subject-access")
        yield Signed(client, idp, clock, sessions, hub)


async def _sign_in(client: httpx.AsyncClient, idp: httpx.AsyncClient, user: str, back_to: str) -> httpx.Response:
    """The authorization-code flow as a browser follows it: workspace -> provider's page -> workspace."""
    start = await client.get("/sign-in", params={"next": back_to})
    assert start.status_code in (302, 303), start.text
    page = await idp.get(start.headers["location"])
    answer = await idp.post(str(page.url), data={"sub": user})
    assert answer.status_code == 302, answer.text
    done = await client.get(answer.headers["location"])
    assert done.status_code == 303, done.text
    return done


def _expires(token: str) -> datetime:
    return datetime.fromtimestamp(jwt.decode(token, options={"verify_signature": False})["exp"], UTC)


async def test_a_form_sent_after_the_token_ends_goes_with_a_refreshed_token_and_everything_typed() -> None:
    async with signed_in() as signed:
        csrf = await signed.csrf()
        first = signed.hub.called("decision", "GET", "/subject-access-requests")[0].bearer or ""
        signed.clock.set(_expires(first) + timedelta(seconds=1))  # typing took longer than the token lasts
        sent = await signed.client.post("/subject-access", data={"csrf_token": csrf, **TYPED})
    assert sent.status_code == 303 and sent.headers["location"] == "/subject-access/SAR-2?started=1"
    call = signed.hub.called("decision", "POST", "/subject-access-requests")[0]
    assert call.bearer and call.bearer != first, "the service was called with a new access token"
    # The provider stamps tokens with the real time, in whole seconds (only the workspace's clock was moved), so a
    # token refreshed within the same second as the first ends with it: never earlier (a clean-clone run saw equal).
    assert _expires(call.bearer) >= _expires(first)
    assert jwt.decode(call.bearer, options={"verify_signature": False})["sub"] == "morgan.manager"
    assert call.body == {name: value or None for name, value in TYPED.items()}, "nothing typed was lost"


async def test_a_token_not_yet_near_its_end_is_not_refreshed() -> None:
    async with signed_in() as signed:
        await signed.client.get("/subject-access")
        first = signed.hub.called("decision", "GET", "/subject-access-requests")[0].bearer
        signed.clock.advance(seconds=TOKEN_SECONDS - 120)
        await signed.client.get("/subject-access")
    assert {call.bearer for call in signed.hub.called("decision", "GET", "/subject-access-requests")} == {first}


def _no_refresh_token_in_clear(signed: Signed) -> bool:
    records = [doc for name, doc in signed.sessions.documents() if name == "sessions"]
    sealed = [doc["data"].get("refresh_token") for doc in records]
    return all(isinstance(value, str) and value.startswith("gAAAAA") for value in sealed)  # a Fernet token


async def test_the_refresh_token_is_kept_sealed() -> None:
    async with signed_in() as signed:
        assert _no_refresh_token_in_clear(signed)


async def test_when_refresh_is_refused_the_form_is_kept_sealed_and_sent_after_signing_in_again() -> None:
    async with signed_in() as signed:
        csrf = await signed.csrf()
        first = signed.hub.called("decision", "GET", "/subject-access-requests")[0].bearer or ""
        revoked = await signed.provider.post("/users/morgan.manager/revoke-tokens")  # the council ends the sign-in
        assert revoked.status_code == 204
        signed.clock.set(_expires(first) + timedelta(seconds=1))
        sent = await signed.client.post("/subject-access", data={"csrf_token": csrf, **TYPED})
        assert sent.status_code == 303 and sent.headers["location"] == "/sign-in?next=/form-kept"
        assert signed.hub.called("decision", "POST", "/subject-access-requests") == [], "nothing sent yet"
        stored = signed.stored()
        assert TYPED["family_name"] not in stored and TYPED["reason"] not in stored, "kept sealed, not in clear"

        back = await _sign_in(signed.client, signed.provider, "morgan.manager", "/form-kept")
        assert back.headers["location"] == "/form-kept"
        page = await signed.client.get("/form-kept")
        assert page.status_code == 200
        assert "What you typed has been kept" in page.text and "Turner-Refresh" in page.text
        assert 'action="/subject-access"' in page.text
        fields = _hidden_fields(page.text)
        assert fields["csrf_token"] != csrf, "a new CSRF token: the session is a new one"
        resent = await signed.client.post("/subject-access", data=fields)
        assert resent.status_code == 303 and resent.headers["location"] == "/subject-access/SAR-2?started=1"
        again = await signed.client.get("/form-kept")
        assert again.status_code == 404, "shown once"
    call = signed.hub.called("decision", "POST", "/subject-access-requests")[0]
    assert call.body == {name: value or None for name, value in TYPED.items()}, "nothing typed was lost"
    assert call.bearer != first


async def test_a_kept_form_is_not_shown_to_someone_else_signing_in() -> None:
    async with signed_in() as signed:
        csrf = await signed.csrf()
        await signed.provider.post("/users/morgan.manager/revoke-tokens")
        signed.clock.advance(seconds=TOKEN_SECONDS)
        sent = await signed.client.post("/subject-access", data={"csrf_token": csrf, **TYPED})
        assert sent.headers["location"] == "/sign-in?next=/form-kept"
        await _sign_in(signed.client, signed.provider, "ali.analyst", "/form-kept")  # a colleague at the same desk
        page = await signed.client.get("/form-kept")
    assert page.status_code == 404 and "Turner-Refresh" not in page.text


async def test_a_kept_form_lasts_only_a_short_while() -> None:
    async with signed_in() as signed:
        csrf = await signed.csrf()
        await signed.provider.post("/users/morgan.manager/revoke-tokens")
        signed.clock.advance(seconds=TOKEN_SECONDS)
        await signed.client.post("/subject-access", data={"csrf_token": csrf, **TYPED})
        signed.clock.advance(KEEP_FOR + timedelta(seconds=1))
        await _sign_in(signed.client, signed.provider, "morgan.manager", "/form-kept")
        page = await signed.client.get("/form-kept")
    assert page.status_code == 404


async def test_a_cross_site_post_with_an_ended_token_is_refused_not_kept() -> None:
    async with signed_in() as signed:
        await signed.provider.post("/users/morgan.manager/revoke-tokens")
        signed.clock.advance(seconds=TOKEN_SECONDS)
        sent = await signed.client.post("/subject-access", data={"csrf_token": "not-ours", **TYPED})
        assert sent.status_code == 403
    assert "kept_form" not in signed.stored()


async def test_signing_out_with_an_ended_token_signs_out() -> None:
    async with signed_in() as signed:
        csrf = await signed.csrf()
        await signed.provider.post("/users/morgan.manager/revoke-tokens")
        signed.clock.advance(seconds=TOKEN_SECONDS)
        out = await signed.client.post("/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 303 and "/form-kept" not in out.headers["location"]


def _hidden_fields(page: str) -> dict[str, Any]:
    form = page.split('action="/subject-access"', 1)[1].split("</form>", 1)[0]
    fields: dict[str, Any] = {}
    for chunk in form.split('<input type="hidden" name="')[1:]:
        name, rest = chunk.split('"', 1)
        fields[name] = rest.split('value="', 1)[1].split('"', 1)[0]
    return fields
