"""A real browser for tests: Playwright's async API driving the Chromium that `infra/browser.sh` finds.

`infra/browser.sh` prints the path of a Chromium (one already there, else Debian's package through apt
as root, else Playwright's own download) and Playwright launches it with `executable_path`: no
`playwright install` where a Chromium is there already.

Use the fixtures from ONE conftest.py (importing them into several modules would start a browser per
module)::

    from tests.support.browser import browser, page  # noqa: F401  (fixtures)

    async def test_queue(page: Page) -> None:
        await page.goto(url)
        await check_accessibility(page)
        await screenshot(page, "queue")

- `browser` (session): one headless Chromium for the whole run.
- `page` (function): a page in a fresh context (its own cookies and storage), closed afterwards.
- `new_page(browser)`: the same as an async context manager, for tests that need several people
  signed in at once (a screener and a manager, say).
- `check_accessibility(page)`: axe-core, WCAG 2.0/2.1/2.2 A and AA rules; AssertionError listing the
  violations (rule id, impact, help, the nodes' selectors and markup).
- `screenshot(page, name)`: a full-page PNG of the page. The README's images in docs/screenshots/ are
  refreshed only when asked (`MASH_UPDATE_SCREENSHOTS=1 make test`); otherwise a run writes its pictures
  under .cache/screenshots/, so running the tests leaves the work tree as it was.
- `launch_options()`: the executable and flags, for a sync `p.chromium.launch(**launch_options())`.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from axe_playwright_python.base import AXE_SCRIPT  # type: ignore[import-untyped]
from playwright.async_api import Browser, Page, async_playwright

ROOT = Path(__file__).resolve().parents[2]
BROWSER_SCRIPT = ROOT / "infra" / "browser.sh"
SCREENSHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("MASH_UPDATE_SCREENSHOTS") == "1"
               else ROOT / ".cache" / "screenshots")

# Without the background-networking flags Chromium stalls on a closed network; --no-sandbox because the
# tests may run as root (CI containers). Playwright gives every launch a fresh temporary
# --user-data-dir of its own and deletes it on close.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

# axe-core's tags for the WCAG 2.0, 2.1 and 2.2 level A and AA rules (2.2 added only AA rules to axe).
WCAG_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

# What every page gets: a desktop window, British English, no motion; 1x pixels keep screenshots small.
CONTEXT_OPTIONS: dict[str, Any] = {
    "viewport": {"width": 1280, "height": 800},
    "device_scale_factor": 1,
    "locale": "en-GB",
    "timezone_id": "Europe/London",
    "reduced_motion": "reduce",
}
DEFAULT_TIMEOUT_MS = 15_000


@functools.cache
def chromium_executable() -> str:
    """The Chromium to drive: the path `infra/browser.sh` prints (it installs one if needed)."""
    done = subprocess.run(["bash", str(BROWSER_SCRIPT)], capture_output=True, text=True, check=False, timeout=900)
    path = done.stdout.strip()
    if done.returncode != 0 or not path:
        raise RuntimeError(f"infra/browser.sh found no Chromium (exit {done.returncode}):\n{done.stderr.strip()}")
    return path


def launch_options() -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch` (sync or async API)."""
    return {"executable_path": chromium_executable(), "headless": True, "args": list(CHROMIUM_ARGS)}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the whole test run."""
    try:
        options = launch_options()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        pytest.fail(str(exc), pytrace=False)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(**options)
        try:
            yield launched
        finally:
            await launched.close()


@asynccontextmanager
async def new_page(browser: Browser, **context_options: Any) -> AsyncIterator[Page]:
    """A page in a context of its own (fresh cookies and storage); `context_options` override ours."""
    context = await browser.new_context(**{**CONTEXT_OPTIONS, **context_options})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A page in a fresh browser context, closed after the test."""
    async with new_page(browser) as fresh:
        yield fresh


def _describe(violation: dict[str, Any]) -> str:
    lines = [
        f"- {violation['id']} ({violation.get('impact') or 'no impact given'}): {violation['help']}",
        f"  {violation.get('helpUrl', '')}",
    ]
    for node in violation.get("nodes", []):
        target = ", ".join(" ".join(map(str, part)) if isinstance(part, list) else str(part) for part in node["target"])
        html = " ".join(str(node.get("html", "")).split())
        lines.append(f"    {target}: {html[:200]}")
    return "\n".join(lines)


async def accessibility_violations(page: Page, tags: Iterable[str] = WCAG_TAGS) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, for the rules with any of `tags`."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_SCRIPT)  # evaluated by the browser's debugger protocol, not subject to CSP
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    results: dict[str, Any] = await page.evaluate("options => window.axe.run(document, options)", options)
    violations: list[dict[str, Any]] = results["violations"]
    return violations


async def check_accessibility(page: Page, tags: Iterable[str] = WCAG_TAGS) -> None:
    """Raise AssertionError listing every axe-core violation of WCAG 2.0/2.1/2.2 A and AA on the page."""
    violations = await accessibility_violations(page, tags)
    if violations:
        report = "\n".join(_describe(violation) for violation in violations)
        raise AssertionError(f"{len(violations)} accessibility violation(s) on {page.url}:\n{report}")


_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


async def screenshot(page: Page, name: str, directory: Path = SCREENSHOTS) -> Path:
    """Save a full-page PNG as <directory>/<name>.png (see SCREENSHOTS for the default); returns its path."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"screenshot name {name!r}: use lower-case letters, digits and hyphens")
    path = directory / f"{name}.png"
    await page.screenshot(  # Playwright creates the directory
        path=path, full_page=True, animations="disabled", caret="hide"
    )
    return path
