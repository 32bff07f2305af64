"""Webhooks over HTTP(S) with httpx, signed with HMAC-SHA256 and carrying an Idempotency-Key.

The TLS context (the system's CA certificates) is built once: building it per call was a fifth of
notify's CPU time while draining a backlog. So is the HTTP client: one httpx.AsyncClient for every call,
whose pool keeps connections alive, so a burst of hand-offs to one receiving service opens one connection
(and does one TLS handshake), not one per message. An idle connection is dropped after
`KEEPALIVE_SECONDS`, under the common servers' idle timeouts (uvicorn's 5 s), so a call seldom lands on
one the receiver is closing; if it does, the send fails and is retried like any other failure, and the
Idempotency-Key lets the receiver recognise a repeat.
"""

from __future__ import annotations

import asyncio
import os
import ssl

import httpx
from mash_runtime.clock import Clock, utc_now

from mash_notify.domain.signing import SIGNATURE_HEADER, sign

KEEPALIVE_SECONDS = 2.0


class WebhookRefused(Exception):
    """The receiver answered, but not with success."""


class WebhookChannel:
    """POSTs the message's canonical JSON to the recipient's URL."""

    def __init__(self, timeout: float, clock: Clock = utc_now) -> None:
        self._timeout = timeout
        self._clock = clock  # the signature's timestamp
        self._tls = ssl.create_default_context()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _shared_client(self) -> httpx.AsyncClient:
        """The one client, made on first use in the running event loop (and again in another loop, e.g. a
        test's next one: a client's connections belong to the loop that opened them)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self._timeout, verify=self._tls,
                                             limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS))
            self._loop = loop
        return self._client

    async def close(self) -> None:
        """Close the shared client's connections (at shutdown); a later send opens a new client."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def send(self, *, notification_id: str, url: str, json_body: str, secret_name: str | None) -> None:
        """Deliver or raise, so the caller can schedule a retry. The secret is read by name from the env."""
        body = json_body.encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": notification_id}
        if secret_name:
            secret = os.environ.get(secret_name)
            if not secret:
                raise WebhookRefused(f"the webhook secret {secret_name} is not set in the environment")
            headers[SIGNATURE_HEADER] = sign(body, secret, at=self._clock())
        response = await self._shared_client().post(url, content=body, headers=headers)
        if not response.is_success:
            raise WebhookRefused(f"the receiver answered {response.status_code}")
