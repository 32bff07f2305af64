"""Sessions kept on the server: the cookie carries only the session's id, so signing out really ends it.

Issue 22 found that an encrypted cookie holding the whole session could not be ended: a copy taken before
sign-out still opened the queue afterwards, until the access token inside expired. Now each session is a
record in the workspace's own small database (`sessions`; no case data: who, their roles, the token the
pages forward, the form's CSRF token), and the cookie holds only its random id (encrypted and authenticated
with Fernet, so a forged or altered cookie is refused before the database is asked). The record is found
by a SHA-256 of the id, so the database never holds a working cookie.

A session ends when the person signs out (its record is deleted), when it has been idle for the idle limit
(30 minutes by default), when it reaches the absolute limit (8 hours), or when the identity provider says
the person signed out there (back-channel logout, by the provider's session id or the person). Both limits
are checked on every read against the injected clock, so tests move the clock instead of waiting; a TTL
index on `expires_at` lets MongoDB remove what nobody reads again.

The cookie is Secure, HttpOnly and SameSite=Lax: Lax, not Strict, because the identity provider's redirect
back to the workspace is a cross-site top-level navigation that must carry the cookie holding the sign-in's
state.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from mash_runtime.clock import Clock
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE_NAME = "mash_session"
ROTATE = "mash.session.rotate"  # set in scope to give the session a new id (after sign-in: no fixation)


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class SessionInfo:
    """One of a person's sessions, as the "your sessions" page lists it (never its id)."""

    handle: str
    started_at: datetime
    last_seen_at: datetime
    browser: str
    current: bool


class SessionStore:
    """The session records: create, read (ending an idle or too old one), save, end; a person's sessions."""

    def __init__(self, collection: Any, clock: Clock, idle: timedelta, absolute: timedelta) -> None:
        self._sessions = collection
        self._clock = clock
        self.idle = idle
        self.absolute = absolute

    async def ensure_indexes(self) -> None:
        """TTL on `expires_at` (MongoDB removes a record once past it), and lookups by person and provider session."""
        await self._sessions.create_index("expires_at", expireAfterSeconds=0)
        await self._sessions.create_index("subject")
        await self._sessions.create_index("provider_sid")

    def _expires(self, started: datetime, seen: datetime) -> datetime:
        return min(seen + self.idle, started + self.absolute)

    async def load(self, session_id: str) -> dict[str, Any] | None:
        """The session's data, or None if there is none, or it was idle too long or is too old (then it is ended)."""
        record = await self._sessions.find_one({"_id": _key(session_id)})
        if record is None:
            return None
        now = self._clock()
        started, seen = _aware(record["started_at"], now), _aware(record["last_seen_at"], now)
        if now - seen >= self.idle or now - started >= self.absolute:
            await self._sessions.delete_one({"_id": _key(session_id)})
            return None
        data = record.get("data")
        return dict(data) if isinstance(data, dict) else {}

    async def create(self, data: dict[str, Any], browser: str = "") -> str:
        """A new session holding `data`; returns its id (for the cookie only)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        await self._sessions.insert_one({
            "_id": _key(session_id), "handle": secrets.token_urlsafe(12), "data": data,
            **_who(data), "browser": browser[:200], "started_at": now, "last_seen_at": now,
            "expires_at": self._expires(now, now),
        })
        return session_id

    async def save(self, session_id: str, data: dict[str, Any]) -> None:
        """Store `data` and mark the session used now (the idle limit counts from here)."""
        record = await self._sessions.find_one({"_id": _key(session_id)}, {"started_at": 1})
        if record is None:
            return
        now = self._clock()
        await self._sessions.update_one({"_id": _key(session_id)}, {"$set": {
            "data": data, **_who(data), "last_seen_at": now,
            "expires_at": self._expires(_aware(record["started_at"], now), now)}})

    async def end(self, session_id: str) -> None:
        """Delete the session: its cookie opens nothing from now on."""
        await self._sessions.delete_one({"_id": _key(session_id)})

    async def of(self, subject: str, current: str | None) -> list[SessionInfo]:
        """The person's live sessions, newest first; `current` marks the one asking."""
        now = self._clock()
        found = []
        async for record in self._sessions.find({"subject": subject}):
            started, seen = _aware(record["started_at"], now), _aware(record["last_seen_at"], now)
            if now - seen >= self.idle or now - started >= self.absolute:
                continue
            found.append(SessionInfo(handle=record["handle"], started_at=started, last_seen_at=seen,
                                     browser=record.get("browser") or "", current=record["_id"] == (
                                         _key(current) if current else None)))
        return sorted(found, key=lambda info: info.started_at, reverse=True)

    async def end_of(self, subject: str, handle: str | None = None, keep: str | None = None) -> int:
        """End the person's session with `handle`, or all of them but `keep`; returns how many ended."""
        flt: dict[str, Any] = {"subject": subject}
        if handle is not None:
            flt["handle"] = handle
        ended = 0
        async for record in self._sessions.find(flt, {"_id": 1}):
            if keep is not None and record["_id"] == _key(keep):
                continue
            ended += (await self._sessions.delete_one({"_id": record["_id"]})).deleted_count
        return ended

    async def end_at_provider(self, subject: str | None, provider_sid: str | None) -> int:
        """Back-channel logout: end the sessions of the provider's session `provider_sid`, else all of `subject`'s."""
        if provider_sid:
            flt: dict[str, Any] = {"provider_sid": provider_sid}
            if subject:
                flt["subject"] = subject
        elif subject:
            flt = {"subject": subject}
        else:
            return 0
        return int((await self._sessions.delete_many(flt)).deleted_count)


def _who(data: dict[str, Any]) -> dict[str, Any]:
    user = data.get("user")
    if not isinstance(user, dict):
        return {"subject": None, "provider_sid": None}
    return {"subject": user.get("sub"), "provider_sid": data.get("provider_sid")}


def _aware(moment: datetime, like: datetime) -> datetime:
    # A store that drops the zone (MongoDB without tz_aware) gives back UTC as naive: read it as UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


class ServerSessionMiddleware:
    """Puts `scope["session"]` (a dict) on every request from the store, and saves it when the response starts."""

    def __init__(self, app: ASGIApp, store: SessionStore, keys: list[str], secure: bool) -> None:
        self.app = app
        self._store = store
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])
        self._secure = secure

    def _cookie_id(self, scope: Scope) -> str | None:
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
                return self._fernet.decrypt(morsel.value.encode()).decode()
            except (InvalidToken, UnicodeDecodeError):
                return None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie_id = self._cookie_id(scope)
        loaded = await self._store.load(cookie_id) if cookie_id else None
        session_id = cookie_id if loaded is not None else None
        scope["session"] = loaded if loaded is not None else {}
        scope["session_id"] = session_id
        browser = next((value.decode("latin-1") for name, value in scope.get("headers", [])
                        if name == b"user-agent"), "")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = await self._saved(scope, session_id, cookie_id, browser)
                if cookie is not None:
                    MutableHeaders(scope=message).append("Set-Cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _saved(self, scope: Scope, session_id: str | None, cookie_id: str | None, browser: str) -> str | None:
        """Write the session back; the Set-Cookie header to send, if the cookie changes."""
        current: dict[str, Any] = scope["session"]
        if not current:  # signed out, or never had anything: no record, no cookie
            if session_id is not None:
                await self._store.end(session_id)
            return self._cookie("") if cookie_id is not None else None
        if session_id is not None and scope.get(ROTATE):
            await self._store.end(session_id)
            session_id = None
        if session_id is None:
            session_id = await self._store.create(json.loads(json.dumps(current)), browser)
            scope["session_id"] = session_id
            return self._cookie(self._fernet.encrypt(session_id.encode()).decode())
        await self._store.save(session_id, json.loads(json.dumps(current)))
        return None

    def _cookie(self, value: str) -> str:
        flags = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self._secure else "")
        if not value:
            return f"{COOKIE_NAME}=; Max-Age=0; {flags}"
        return f"{COOKIE_NAME}={value}; Max-Age={int(self._store.absolute.total_seconds())}; {flags}"
