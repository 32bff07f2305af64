"""Keeping the signed-in person's access token fresh: a silent refresh before a page calls a service.

An access token from the identity provider lives an hour or so; a session lives a working day. The session
keeps the token's expiry (its `exp`, which is what the services check) and the refresh token the provider
gave at sign-in, sealed with the hub's sealing keys (mash_runtime.sealing): the session database never holds
a working refresh token. Before a page runs, if the access token ends within `AHEAD`, the workspace asks the
provider's token endpoint for a new one (grant_type=refresh_token), verifies it exactly as the services will,
and carries on: the person notices nothing, and the page calls the services with the new token.

The provider may refuse (the refresh token expired, was revoked, or the account was disabled) or not answer:
then the person has to sign in again (mash_workspace.kept_form keeps what they had just typed).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
from mash_runtime.auth import Principal
from mash_runtime.clock import Clock
from mash_runtime.sealing import AtRestCipher, SealBroken

VerifyToken = Callable[[str], Awaitable[Principal]]
AHEAD = timedelta(seconds=60)  # refresh this long before the end: a page may call several services in turn
REFRESH_TOKEN = "refresh_token"  # noqa: S105 - the session's key for the sealed refresh token, not one
log = logging.getLogger("mash_workspace.tokens")


class RefreshImpossible(Exception):
    """No new access token: no refresh token, the provider refused it, or the provider did not answer."""


def token_expiry(access_token: str, fallback_seconds: Any = None, now: datetime | None = None) -> float | None:
    """When an access token ends (epoch seconds): its `exp`, else `expires_in` from `now`, else unknown (None).

    Read without checking the signature: it is called only on a token that has just been verified.
    """
    try:
        exp = jwt.decode(access_token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        exp = None
    if isinstance(exp, int | float):
        return float(exp)
    if isinstance(fallback_seconds, int | float) and now is not None:
        return now.timestamp() + float(fallback_seconds)
    return None


class AccessTokens:
    """Remembers the tokens of a sign-in in the session, and refreshes the access token when it is due."""

    def __init__(self, *, issuer: str, client_id: str, client_secret: str, verify: VerifyToken,
                 cipher: AtRestCipher, clock: Clock, transport: httpx.AsyncBaseTransport | None = None,
                 timeout_seconds: float = 10.0) -> None:
        self._issuer = issuer.rstrip("/")
        self._client = (client_id, client_secret)
        self._verify = verify
        self._cipher = cipher
        self._clock = clock
        self._transport = transport
        self._timeout = timeout_seconds
        self._token_endpoint: str | None = None

    def remember(self, session: MutableMapping[str, Any], token: dict[str, Any]) -> None:
        """After sign-in or a refresh: the access token's expiry on the person, the refresh token sealed."""
        user = session.get("user")
        if isinstance(user, dict):
            user["expires_at"] = token_expiry(str(token["access_token"]), token.get("expires_in"), self._clock())
        refresh_token = token.get(REFRESH_TOKEN)
        if isinstance(refresh_token, str) and refresh_token:
            session[REFRESH_TOKEN] = self._cipher.seal(refresh_token)

    def due(self, session: MutableMapping[str, Any]) -> bool:
        """Whether the signed-in person's access token ends within AHEAD (a token of unknown end is never due)."""
        user = session.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("expires_at"), int | float):
            return False
        return self._clock().timestamp() >= float(user["expires_at"]) - AHEAD.total_seconds()

    async def refresh(self, session: MutableMapping[str, Any]) -> None:
        """A new access token for the person in `session` (their roles as it says); RefreshImpossible if none."""
        user = session.get("user")
        sealed = session.get(REFRESH_TOKEN)
        if not isinstance(user, dict) or not isinstance(sealed, str):
            raise RefreshImpossible("no refresh token in this session")
        try:
            refresh_token = self._cipher.open(sealed)
        except SealBroken as exc:
            raise RefreshImpossible("the refresh token could not be opened (sealing keys changed)") from exc
        token = await self._grant(refresh_token)
        try:
            principal = await self._verify(str(token["access_token"]))
        except Exception as exc:  # a token the services would refuse is no refresh at all
            raise RefreshImpossible(f"the new access token was refused ({type(exc).__name__})") from exc
        if principal.subject != user.get("sub"):
            raise RefreshImpossible("the provider answered with someone else's token")
        # Roles are read again: a council that takes a role away sees it gone at the next refresh.
        user.update({"access_token": token["access_token"], "roles": sorted(role.value for role in principal.roles),
                     "agency": principal.agency})
        self.remember(session, token)
        log.info("access token refreshed", extra={"fields": {"subject": principal.subject}})

    async def _grant(self, refresh_token: str) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=self._timeout) as http:
                endpoint = await self._endpoint(http)
                answer = await http.post(endpoint, auth=self._client,
                                         data={"grant_type": "refresh_token", "refresh_token": refresh_token})
        except httpx.HTTPError as exc:
            raise RefreshImpossible(f"the identity provider did not answer ({type(exc).__name__})") from exc
        if answer.status_code != 200:
            raise RefreshImpossible(f"the identity provider refused the refresh ({answer.status_code}: "
                                    f"{_oauth_error(answer)})")
        body = answer.json()
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise RefreshImpossible("the identity provider's answer has no access token")
        return body

    async def _endpoint(self, http: httpx.AsyncClient) -> str:
        if self._token_endpoint is None:
            discovery = (await http.get(f"{self._issuer}/.well-known/openid-configuration")).raise_for_status()
            endpoint = discovery.json().get("token_endpoint")
            if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
                raise httpx.HTTPError("the provider's discovery document names no token endpoint")
            self._token_endpoint = endpoint
        return self._token_endpoint


def _oauth_error(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return "no error body"
    return str(body.get("error", "no error")) if isinstance(body, dict) else "no error body"
