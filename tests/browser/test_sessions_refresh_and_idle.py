"""A sign-in that ends during a session, in a real browser (issue 22, item 1 and the Done-when's moved clock).

The whole browser hub (tests/browser/conftest.py): real services, the real local identity provider and the
workspace as processes. A person whose access tokens last seconds (the provider's `token_max_age` claim)
types a subject access request; the test waits until a token issued after theirs is refused by decision
itself, so theirs has ended as the services see it, then sends the form: the workspace refreshes the token
and the request is started with everything typed. When the provider has revoked the refresh token, the
person signs in again and sends the same form from /form-kept. Then the workspace process's clock is moved
past the idle limit (the test-only offset file) and the next page asks the person to sign in again.
"""

from __future__ import annotations

import json
import uuid

import httpx
from playwright.async_api import Browser, Page

from demo.hub import Hub
from tests.browser.conftest import clock_offset_file, sign_in, visit
from tests.support.browser import check_accessibility, new_page
from tests.support.oidc import register_user
from tests.support.oidc import sign_in as tokens_for
from tests.support.waiting import eventually

TOKEN_SECONDS = 5  # with decision's leeway in the browser hub (2 s) the token is refused about 7 s after issue
IDLE_MINUTES = 30  # the workspace's default idle limit (MASH_WORKSPACE_SESSION_IDLE_MINUTES)


async def _short_lived_manager(hub: Hub) -> str:
    user = f"rory.refresh-{uuid.uuid4().hex[:6]}"
    await register_user(hub.oidc_issuer or "", user, {
        "name": "Rory Refresh", "email": f"{user}@example.org", "roles": ["manager"], "token_max_age": TOKEN_SECONDS})
    return user


async def _type_a_request(page: Page, hub: Hub, family_name: str) -> dict[str, str]:
    await visit(page, f"{hub.workspace_url}/subject-access")
    typed = {"given_name": "Kai", "family_name": family_name, "person_ref": "LA-991",
             "reason": "Browser test: typed while the sign-in ran out"}
    for name, value in typed.items():
        await page.fill(f"#{name}", value)
    return typed


async def _wait_until_decision_refuses_a_token_issued_now(hub: Hub, user: str) -> None:
    """A token issued after the page's is refused by decision: the page's own token has ended too."""
    probe = await tokens_for(hub.oidc_issuer or "", user)

    async def refused() -> bool:
        async with httpx.AsyncClient(base_url=hub.url("decision"), timeout=10.0) as decision:
            answer = await decision.get("/subject-access-requests", headers=probe.bearer)
        return answer.status_code == 401

    await eventually(refused, timeout=180.0, interval=1.0, what="decision to refuse the ended access token")


async def _started_with(page: Page, hub: Hub, typed: dict[str, str]) -> None:
    await page.wait_for_url(f"{hub.workspace_url}/subject-access/SAR-*")
    shown = await page.inner_text("main")
    assert "Request started" in shown
    assert f"{typed['given_name']} {typed['family_name']} ({typed['person_ref']})" in shown, shown
    assert typed["reason"] in shown, "nothing typed was lost"


def _refreshes_logged(hub: Hub, user: str) -> int:
    log = hub.config.workdir / "logs" / "workspace.log"
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return sum(1 for entry in entries if entry.get("message") == "access token refreshed"
               and entry.get("subject") == user)


async def test_a_form_typed_while_the_token_ends_is_sent_after_a_silent_refresh(hub: Hub, browser: Browser) -> None:
    user = await _short_lived_manager(hub)
    async with new_page(browser) as manager:
        await _sign_in_typing(manager, hub, user)
        typed = await _type_a_request(manager, hub, "Refreshed-Silently")
        refreshed_before = _refreshes_logged(hub, user)
        await _wait_until_decision_refuses_a_token_issued_now(hub, user)
        await manager.click("button:has-text('Start the request')")
        await _started_with(manager, hub, typed)
        assert _refreshes_logged(hub, user) > refreshed_before, "the workspace refreshed the token to send it"
        await check_accessibility(manager)


async def test_when_the_refresh_token_is_revoked_the_form_is_kept_through_signing_in_again(
    hub: Hub, browser: Browser
) -> None:
    user = await _short_lived_manager(hub)
    async with new_page(browser) as manager:
        await _sign_in_typing(manager, hub, user)
        typed = await _type_a_request(manager, hub, "Kept-Through-Sign-In")
        async with httpx.AsyncClient(base_url=hub.oidc_issuer or "") as provider:
            assert (await provider.post(f"/users/{user}/revoke-tokens")).status_code == 204
        await _wait_until_decision_refuses_a_token_issued_now(hub, user)
        await manager.click("button:has-text('Start the request')")
        await manager.wait_for_url(f"{hub.oidc_issuer}/oauth2/authorize**")  # sign in again, at the provider
        await _type_user(manager, user)
        await manager.wait_for_url(f"{hub.workspace_url}/form-kept")
        kept = await manager.inner_text("main")
        assert "What you typed has been kept" in kept
        assert all(value in kept for value in typed.values()), kept
        await check_accessibility(manager)
        await manager.click("button:has-text('Send it')")
        await _started_with(manager, hub, typed)


async def _type_user(page: Page, user: str) -> None:
    # A user added at run time has no one-click button on the provider's page: type the name, as people do.
    await page.fill("input[name='sub']", user)
    await page.click("button:has-text('Authorize')")


async def _sign_in_typing(page: Page, hub: Hub, user: str) -> None:
    await page.goto(f"{hub.workspace_url}/sign-in")
    await _type_user(page, user)
    await page.wait_for_url(f"{hub.workspace_url}/**")


async def test_an_idle_session_ends_when_the_workspace_clock_passes_the_idle_limit(hub: Hub, page: Page) -> None:
    offset = clock_offset_file(hub.config.workdir)
    await sign_in(page, hub, "sam.screener")
    await visit(page, f"{hub.workspace_url}/queue")
    try:
        offset.write_text(str((IDLE_MINUTES - 1) * 60))
        await page.goto(f"{hub.workspace_url}/queue")
        assert page.url == f"{hub.workspace_url}/queue", "29 minutes idle: still signed in"
        offset.write_text(str((2 * IDLE_MINUTES - 1) * 60))  # 30 more minutes without a request
        await page.goto(f"{hub.workspace_url}/queue")
        assert page.url.startswith(f"{hub.oidc_issuer}/oauth2/authorize"), "idle too long: sign in again"
    finally:
        offset.write_text("0")
    await page.click("button[name='sub'][value='sam.screener']")
    await page.wait_for_url(f"{hub.workspace_url}/queue")  # and back to the page asked for
