"""The session: an encrypted cookie, so the workspace keeps no state of its own and scales by copies.

The cookie holds who is signed in, their access token and the form's CSRF token, encrypted and
authenticated with Fernet (the same primitive the hub seals items with), so neither the browser nor
anyone between can read or alter it. It is Secure, HttpOnly and SameSite=Lax: Lax, not Strict,
because the identity provider's redirect back to the workspace is a cross-site top-level navigation
that must carry the cookie holding the sign-in's state.
"""

from __future__ import annotations

import json
import time
from http.cookies import SimpleCookie
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "mash_session"


class EncryptedSessionMiddleware:
    """Puts `scope["session"]` (a dict) on every request and writes it back when it changed."""

    def __init__(self, app: ASGIApp, keys: list[str], max_age_seconds: int, secure: bool) -> None:
        self.app = app
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self._max_age = max_age_seconds
        self._secure = secure

    def _load(self, scope: Scope) -> dict[str, Any]:
        for name, value in scope.get("headers", []):
            if name != b"cookie":
                continue
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: S112 - a malformed cookie header is as good as none
                continue
            morsel = cookie.get(COOKIE_NAME)
            if morsel is None:
                continue
            try:
                data = self._fernet.decrypt(morsel.value.encode(), ttl=self._max_age)
                loaded = json.loads(data)
            except (InvalidToken, ValueError):
                return {}
            return loaded if isinstance(loaded, dict) else {}
        return {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self._load(scope)
        before = json.dumps(session, sort_keys=True)
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = scope["session"]
                after = json.dumps(current, sort_keys=True)
                if after != before:
                    headers = MutableHeaders(scope=message)
                    headers.append("Set-Cookie", self._cookie(current))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, session: dict[str, Any]) -> str:
        flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self._secure else "")
        if not session:
            return f"{COOKIE_NAME}=; Max-Age=0; {flags}"
        session.setdefault("started", int(time.time()))
        token = self._fernet.encrypt(json.dumps(session).encode()).decode()
        return f"{COOKIE_NAME}={token}; Max-Age={self._max_age}; {flags}"
