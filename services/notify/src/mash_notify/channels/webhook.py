"""Webhooks over HTTP(S) with httpx, signed with HMAC-SHA256 and carrying an Idempotency-Key.

The TLS context (the system's CA certificates) is built once: building it per call was a fifth of
notify's CPU time while draining a backlog.
"""

from __future__ import annotations

import os
import ssl

import httpx
from mash_runtime.clock import Clock, utc_now

from mash_notify.domain.signing import SIGNATURE_HEADER, sign


class WebhookRefused(Exception):
    """The receiver answered, but not with success."""


class WebhookChannel:
    """POSTs the message's canonical JSON to the recipient's URL."""

    def __init__(self, timeout: float, clock: Clock = utc_now) -> None:
        self._timeout = timeout
        self._clock = clock  # the signature's timestamp
        self._tls = ssl.create_default_context()

    async def send(self, *, notification_id: str, url: str, json_body: str, secret_name: str | None) -> None:
        """Deliver or raise, so the caller can schedule a retry. The secret is read by name from the env."""
        body = json_body.encode("utf-8")
        headers = {"Content-Type": "application/json", "Idempotency-Key": notification_id}
        if secret_name:
            secret = os.environ.get(secret_name)
            if not secret:
                raise WebhookRefused(f"the webhook secret {secret_name} is not set in the environment")
            headers[SIGNATURE_HEADER] = sign(body, secret, at=self._clock())
        async with httpx.AsyncClient(timeout=self._timeout, verify=self._tls) as client:
            response = await client.post(url, content=body, headers=headers)
        if not response.is_success:
            raise WebhookRefused(f"the receiver answered {response.status_code}")
