"""Sessions that end when they should, and hostile paths and reasons, in a real browser (issue 22).

The whole hub with its pages and the local identity provider as processes. A cookie copied before sign-out
opens nothing after it; the provider's back-channel logout ends a person's session; a control character in a
path is the 404 page with every security header; "ok" as the reason on "who looked" is the field's error.
The idle limit with the workspace process's clock moved, and a token refreshed or a form kept when the
sign-in ends, are in tests/browser/test_sessions_refresh_and_idle.py; both limits with an injected clock in
tests/unit/workspace/test_workspace_sessions.py.
"""

from __future__ import annotations

import httpx
from mash_workspace.security import HEADERS
from playwright.async_api import Browser, Page

from demo.hub import Hub
from tests.browser.conftest import sign_in, visit
from tests.support.browser import new_page


async def test_a_cookie_copied_before_sign_out_is_refused_after_it(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as screener, new_page(browser) as thief:
        await sign_in(screener, hub, "sam.screener")
        copied = await screener.context.cookies()
        assert [cookie["name"] for cookie in copied] == ["mash_session"]
        await thief.context.add_cookies(copied)  # type: ignore[arg-type]
        await thief.goto(f"{hub.workspace_url}/queue")
        assert thief.url == f"{hub.workspace_url}/queue", "the copy works while the session lasts"

        await visit(screener, f"{hub.workspace_url}/sessions")
        await screener.click("button:has-text('Sign out')")
        # Through the identity provider's end_session (RP-initiated logout) and back.
        await screener.wait_for_url(f"{hub.workspace_url}/signed-out")
        assert "You have signed out" in await screener.inner_text("main")

        await thief.goto(f"{hub.workspace_url}/queue")
        assert thief.url.startswith(f"{hub.oidc_issuer}/oauth2/authorize"), "signed out means signed out"


async def test_a_back_channel_logout_from_the_provider_ends_the_session(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await manager.goto(f"{hub.workspace_url}/queue")
        assert manager.url == f"{hub.workspace_url}/queue"
        async with httpx.AsyncClient(base_url=hub.oidc_issuer or "") as provider:
            answer = (await provider.post("/users/morgan.manager/logout")).json()
        assert set(answer["delivered"].values()) == {200}, answer["delivered"]
        await manager.goto(f"{hub.workspace_url}/queue")
        assert manager.url.startswith(f"{hub.oidc_issuer}/oauth2/authorize")


async def test_a_control_character_in_any_path_is_the_404_page_with_the_headers(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as manager, new_page(browser) as health:
        await sign_in(manager, hub, "morgan.manager")
        await sign_in(health, hub, "hana.health")
        for page, path in ((manager, "/cases/%00"), (manager, "/cases/%0A"), (manager, "/subject-access/%0D%0AX"),
                           (health, "/portal/health/requests/%00"), (health, "/portal/%1B")):
            response = await page.goto(f"{hub.workspace_url}{path}")
            assert response is not None and response.status == 404, path
            assert "Page not found" in await page.inner_text("main")
            headers = await response.all_headers()
            for name, value in HEADERS.items():
                if name == "Content-Security-Policy":  # the identity provider's origin is added to form-action
                    assert headers[name.lower()].startswith(value.split("; form-action")[0]), path
                else:
                    assert headers.get(name.lower()) == value, (path, name)


async def test_ok_as_a_reason_on_who_looked_is_the_fields_error(hub: Hub, page: Page) -> None:
    await sign_in(page, hub, "morgan.manager")
    await visit(page, f"{hub.workspace_url}/who-looked")
    await page.fill("#referral_id", "MASH-000000000000")
    await page.fill("#reason", "ok")
    await page.click("button:has-text('Show the report')")
    summary = page.locator(".govuk-error-summary")
    assert "Why you are looking must be 3 characters or more" in await summary.inner_text()
    assert (await page.title()).startswith("Error:")
    await visit(page, page.url)  # axe on the page with the error
