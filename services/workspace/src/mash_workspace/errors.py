"""Any error nobody expected becomes the GOV.UK "Sorry, there is a problem with the service" page.

Without this, an exception escaping a page reached Starlette's outermost error middleware, which answers a
plain-text 500 outside every other middleware: none of the security headers, no layout, nothing a person can
quote. This middleware sits inside the session and security-header middlewares, so the page it renders has
the layout, the person's session and every header. It logs the exception with a short random reference and
shows the same reference on the page, so the service desk can find the log entry from what the person reads
out; the page itself says nothing about the error.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOG = logging.getLogger("mash_workspace.errors")
TITLE = "Sorry, there is a problem with the service"

RenderError = Callable[[Request, str], Response]


def new_reference() -> str:
    """Eight characters a person can read out over the phone (no 0/O or 1/I confusion: hex, upper case)."""
    return secrets.token_hex(4).upper()


class UnexpectedErrorPage:
    """Turns an exception escaping the app into the problem page, with a reference that is in the log."""

    def __init__(self, app: ASGIApp, render: RenderError) -> None:
        self.app = app
        self._render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            reference = new_reference()
            LOG.exception("unexpected error", extra={"fields": {
                "reference": reference, "method": scope.get("method"), "path": scope.get("path")}})
            if started:  # the response is half sent: nothing better can be said now
                raise
            await self._page(scope, reference)(scope, receive, send)

    def _page(self, scope: Scope, reference: str) -> Response:
        try:
            return self._render(Request(scope), reference)
        except Exception:  # the layout itself failed: a plain page, still with every header outside
            LOG.exception("the problem page could not be rendered", extra={"fields": {"reference": reference}})
            return HTMLResponse(f"<!DOCTYPE html><html lang=\"en\"><title>{TITLE}</title><h1>{TITLE}</h1>"
                                f"<p>Try again later.</p><p>Reference: {reference}</p></html>", status_code=500)
