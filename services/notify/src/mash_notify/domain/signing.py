"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", sent as `t=<unix>,v1=<hex>`.

The timestamp is signed too, so a captured message cannot be replayed outside the tolerance window.
Receivers (and tests) check with `verify_signature`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

SIGNATURE_HEADER = "X-MASH-Signature"
DEFAULT_TOLERANCE = timedelta(minutes=5)


class WebhookSignatureError(Exception):
    """A webhook message's signature is missing, malformed, stale or does not match its body."""


def _key(secret: str | bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    if not key:
        raise ValueError("a webhook secret must not be empty")
    return key


def _digest(secret: str | bytes, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(_key(secret), signed, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str | bytes, *, at: datetime) -> str:
    """The signature header value for `body` sent at `at`: `t=<unix seconds>,v1=<hex digest>`."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookSignatureError(f"malformed signature element {part.strip()!r}")
        if name == "t":
            if not value.isdigit():
                raise WebhookSignatureError("the signature timestamp is not a whole number of seconds")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
        # Other schemes are ignored, so a sender can add a new scheme before receivers know it.
    if timestamp is None:
        raise WebhookSignatureError("the signature has no timestamp (t=)")
    if not signatures:
        raise WebhookSignatureError("the signature has no v1 value")
    return timestamp, signatures


def verify_signature(
    header: str,
    body: bytes,
    secret: str | bytes,
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Accept `body` if `header` signs it with `secret` within `tolerance` of `now`; else raise.

    Several v1 values are allowed, so a sender can sign with an old and a new secret while rotating.
    """
    timestamp, signatures = _parse(header)
    age = abs(now.timestamp() - timestamp)
    if age > tolerance.total_seconds():
        raise WebhookSignatureError(f"the signature is {int(age)}s away from now, beyond the tolerance")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in signatures):
        raise WebhookSignatureError("the signature does not match the message")
