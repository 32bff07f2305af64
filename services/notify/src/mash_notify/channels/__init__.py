"""The ways notify delivers a message: the port (what the delivery job needs of a channel) and the real ones,
email over SMTP and signed webhooks over HTTP(S). Tests hand in-memory channels to the bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class EmailSender(Protocol):
    """Sends one email or raises (so that the delivery is retried)."""

    async def send(self, *, notification_id: str, to: str, subject: str, body: str) -> None: ...


class WebhookSender(Protocol):
    """POSTs one signed JSON body or raises (so that the delivery is retried)."""

    async def send(self, *, notification_id: str, url: str, json_body: str, secret_name: str | None) -> None: ...


@dataclass(frozen=True)
class Channels:
    """The channels a notify instance delivers over."""

    email: EmailSender
    webhook: WebhookSender
