"""Where the hub's deliveries land in a demo or a test: a real SMTP server and a real webhook receiver.

Both listen on 127.0.0.1. The webhook receiver verifies the HMAC signature and can be told to fail
the first N requests, to show retries. The SMTP server can be told to take its time over each message
(`smtp_delay`), so that a test can kill notify while a send is in flight.

Both keep every arrival, repeats included. A receiving system recognises notify's rare repeat (after a
crash between a server's acceptance and notify's record) by its Message-ID or Idempotency-Key, the
notification id; `distinct_mail` and `distinct_hooks` are what such a receiver keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from mash_notify.domain.recipients import default_recipients_path
from mash_notify.domain.signing import SIGNATURE_HEADER, verify_signature
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from demo.ports import free_port
from demo.waiting import eventually

WEBHOOK_SECRET = "demo-webhook-secret-0123456789"  # noqa: S105 - a local demo receiver's key


@dataclass
class Mail:
    """One email as the SMTP server received it."""

    to: list[str]
    subject: str
    message_id: str
    body: str
    connection: str = ""  # the client's address and port: which SMTP connection carried it


@dataclass
class Hook:
    """One webhook call as received."""

    path: str
    idempotency_key: str
    payload: dict[str, Any]
    signature_valid: bool


class _SmtpHandler:
    def __init__(self, postbox: Postbox) -> None:
        self._postbox = postbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self._postbox.smtp_in_flight += 1
        self._postbox.smtp_sessions[id(session)] = server.transport
        try:
            if self._postbox.smtp_delay:
                await asyncio.sleep(self._postbox.smtp_delay)  # a slow mail server, not a test's wait
        finally:
            self._postbox.smtp_in_flight -= 1
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        self._postbox.mail.append(Mail(
            to=list(envelope.rcpt_tos), subject=str(parsed["Subject"]), message_id=str(parsed["Message-ID"]),
            body=body.get_content() if body is not None else "",
            connection=f"{session.peer[0]}:{session.peer[1]}",
        ))
        return "250 Message accepted for delivery"


@dataclass
class Postbox:
    """Collects what notify delivers."""

    mail: list[Mail] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    fail_next_hooks: int = 0
    refused_hooks: int = 0
    smtp_delay: float = 0.0
    smtp_in_flight: int = 0
    # The server side of each SMTP connection that has carried a message, so a test can hang up on the clients.
    smtp_sessions: dict[int, Any] = field(default_factory=dict)
    _controller: Controller | None = None
    smtp_port: int = field(default_factory=free_port)
    webhook_port: int = field(default_factory=free_port)

    def notify_env(self, recipients_file: Path) -> dict[str, str]:
        """Settings that point notify at this postbox."""
        env = {
            "MASH_NOTIFY_SMTP_HOST": "127.0.0.1",
            "MASH_NOTIFY_SMTP_PORT": str(self.smtp_port),
            "MASH_NOTIFY_RECIPIENTS_FILE": str(recipients_file),
        }
        names = re.findall(r"secret_name:\s*([A-Z0-9_]+)", recipients_file.read_text(encoding="utf-8"))
        return env | dict.fromkeys(names, WEBHOOK_SECRET)

    def write_recipients(self, path: Path) -> Path:
        """The packaged recipients, with webhooks pointed at this postbox's port."""
        text = default_recipients_path().read_text(encoding="utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("http://127.0.0.1:8710", f"http://127.0.0.1:{self.webhook_port}"), "utf-8")
        return path

    def mail_to(self, address: str) -> list[Mail]:
        """Emails delivered to `address`."""
        return [m for m in self.mail if address in m.to]

    def distinct_mail(self) -> dict[str, Mail]:
        """One email per Message-ID: what a receiving mail system that drops repeats keeps."""
        return {m.message_id: m for m in reversed(self.mail)}

    def hang_up_smtp(self) -> None:
        """Close every SMTP connection from the server's side, as a server does with clients idle too long."""
        assert self._controller is not None, "the postbox is not running"
        sessions, self.smtp_sessions = self.smtp_sessions, {}
        for transport in sessions.values():
            self._controller.loop.call_soon_threadsafe(transport.close)

    def distinct_hooks(self) -> dict[str, Hook]:
        """One call per Idempotency-Key: what a receiver that honours the key applies."""
        return {h.idempotency_key: h for h in reversed(self.hooks)}

    async def _hook(self, request: Request) -> JSONResponse:
        if self.fail_next_hooks > 0:
            self.fail_next_hooks -= 1
            self.refused_hooks += 1
            return JSONResponse({"error": "temporarily unavailable"}, status_code=503)
        body = await request.body()
        try:
            verify_signature(request.headers.get(SIGNATURE_HEADER, ""), body, WEBHOOK_SECRET, now=datetime.now(UTC))
            valid = True
        except Exception:
            valid = False
        self.hooks.append(Hook(path=request.url.path, idempotency_key=request.headers.get("Idempotency-Key", ""),
                               payload=json.loads(body), signature_valid=valid))
        return JSONResponse({"status": "received"}, status_code=202)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Postbox]:
        """Run both servers while the block runs."""
        controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.smtp_port)
        controller.start()
        self._controller = controller
        app = Starlette(routes=[Route("/hooks/{name}", self._hook, methods=["POST"])])
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.webhook_port, log_config=None,
                                               access_log=False, lifespan="off"))
        task = asyncio.create_task(server.serve())
        try:
            await eventually(_started(server), timeout=10, interval=0.05, what="webhook receiver started")
            yield self
        finally:
            server.should_exit = True
            await task
            controller.stop()


def _started(server: uvicorn.Server) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return bool(server.started)

    return probe
