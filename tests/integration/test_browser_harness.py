"""The browser harness itself: real Chromium, axe-core finds a planted fault, screenshots are written.

Needs no Kafka or MongoDB: the pages come from a local HTTP server on a free port.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.support.browser import browser, check_accessibility, page, screenshot

__all__ = ["browser", "page"]  # fixtures used by the tests below

# A 1x1 transparent PNG.
PIXEL = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")

PAGE = """<!DOCTYPE html>
<html lang="en-GB">
  <head><meta charset="utf-8"><title>{title}</title></head>
  <body>
    <header><p>Example Council</p></header>
    <main>
      <h1>{title}</h1>
      {body}
    </main>
  </body>
</html>
"""

PAGES = {
    # The planted fault: an image with no text alternative.
    "/faulty": PAGE.format(title="A page with a fault", body='<img src="/pixel.png">'),
    "/clean": PAGE.format(
        title="A clean page",
        body=(
            '<img src="/pixel.png" alt="A dot">'
            '<form method="post" action="/clean"><label for="name">Your name</label>'
            '<input id="name" name="name" type="text" autocomplete="name"><button>Continue</button></form>'
            '<p><a href="/faulty">Another page</a></p>'
            # Blocked by the page's Content-Security-Policy (as the workspace's will be): proves the policy
            # is in force while axe still runs.
            "<script>document.body.dataset.inline = 'ran'</script>"
        ),
    ),
}

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"


class _Pages(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/pixel.png":
            self._send(200, "image/png", PIXEL)
        elif self.path in PAGES:
            self._send(200, "text/html; charset=utf-8", PAGES[self.path].encode())
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Base URL of a local server with the pages above (port chosen by the OS)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_planted_fault_is_named(page: Page, site: str) -> None:
    await page.goto(f"{site}/faulty")

    with pytest.raises(AssertionError, match="image-alt") as failure:
        await check_accessibility(page)

    assert "critical" in str(failure.value)
    assert '<img src="/pixel.png">' in str(failure.value)
    assert f"{site}/faulty" in str(failure.value)


async def test_a_clean_page_passes_under_a_strict_content_security_policy(page: Page, site: str) -> None:
    await page.goto(f"{site}/clean")

    await check_accessibility(page)

    assert await page.evaluate("() => document.body.dataset.inline") is None  # the inline script was refused
    await page.get_by_role("link", name="Another page").click()
    await page.wait_for_url(f"{site}/faulty")


async def test_a_full_page_screenshot_is_written(page: Page, site: str, tmp_path: Path) -> None:
    await page.goto(f"{site}/clean")

    path = await screenshot(page, "browser-harness", directory=tmp_path / "shots")

    assert path == tmp_path / "shots" / "browser-harness.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="lower-case"):
        await screenshot(page, "../escape", directory=tmp_path)
