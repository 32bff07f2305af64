"""Per-client rate limiting of the public contact endpoint: a token bucket per client address, in process.

POST /contacts is open to the public (no sign-in), so one client could fill the screeners' queue or the
store. Each client address gets `burst` contacts at once and then `per_minute` a minute; one over that is
refused with 429, a JSON body saying when to try again, and a Retry-After header. A genuine referrer
never meets it (a form takes minutes to fill in); the defaults leave room for an organisation whose staff
share one address. Idempotent retries of a contact count like any request.

The address is the one uvicorn reports for the connection. Behind a reverse proxy every request comes
from the proxy, so the limit must key on the address the proxy forwards: uvicorn substitutes the
X-Forwarded-For address only when the connection comes from an address in FORWARDED_ALLOW_IPS (its
default is 127.0.0.1), so set that to the proxy's address, and only to addresses you trust, or a client
could choose its own key. The buckets live in one process: with several replicas each allows its own
share, which is what a per-replica limit behind a load balancer gives (a shared limit would need a shared
store, which the front door does not need for this).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_CLIENTS = 10_000  # buckets kept; idle (full) ones are dropped first when there are more


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`burst` tokens per key, refilled at `per_minute` a minute."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Take a token for `key`: 0 when allowed, else the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(tokens=self._burst, at=now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.at) * self._rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate if self._rate > 0 else math.inf

    def _forget_idle(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self._rate >= self._burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


class ContactRateLimit:
    """ASGI middleware: rate-limit POST `path` per client address; other routes pass untouched."""

    def __init__(self, app: ASGIApp, path: str, per_minute: float, burst: int) -> None:
        self.app = app
        self._path = path
        self._buckets = TokenBuckets(per_minute, burst)
        self._per_minute = per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self._path:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self._buckets.take(client[0] if client else "unknown")
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
        response = JSONResponse(
            status_code=429,
            headers={"Retry-After": str(retry_after)},
            content={
                "error": "too_many_requests",
                "message": f"too many contacts from this address; at most {self._per_minute:g} a minute. "
                           f"Try again in {retry_after} s. If a child is at immediate risk, call 999.",
                "retry_after_seconds": retry_after,
            },
        )
        await response(scope, receive, send)
