"""Who may see what, in a real browser and at the services: roles, agencies, sign-in, tokens, CSRF.

Each refusal is checked where a person meets it (the page: 403 with nothing of the case rendered, or
the sign-in) and, for tokens, where a program would (the services' APIs).
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from mash_runtime.auth import Role, issue_token
from mash_runtime.settings import DEVELOPMENT_JWT_SECRET
from playwright.async_api import Browser, Page

from demo.hub import Hub
from tests.browser.conftest import sign_in, visit
from tests.support.browser import check_accessibility, new_page
from tests.support.oidc import sign_in as provider_sign_in


async def test_the_public_pages_and_their_errors_are_accessible(hub: Hub, page: Page) -> None:
    await visit(page, f"{hub.workspace_url}/")
    await page.click("text=Report a concern")
    await page.click("text=I am a member of the public")
    await page.click("button:has-text('Send report')")
    summary = page.locator(".govuk-error-summary")
    assert "Enter your name" in await summary.inner_text()
    assert (await page.title()).startswith("Error:")
    await check_accessibility(page)
    await page.click(".govuk-error-summary a[href='#referrer-name']")
    assert await page.evaluate("document.activeElement.id") == "referrer-name"
    response = await page.goto(f"{hub.workspace_url}/report-a-concern/somebody-else")
    assert response is not None and response.status == 404
    await check_accessibility(page)


async def test_a_signed_out_browser_is_sent_to_sign_in(hub: Hub, page: Page) -> None:
    for path in ("/queue", "/cases/MASH-ANY", "/portal/police"):
        await page.goto(f"{hub.workspace_url}{path}")
        assert page.url.startswith(f"{hub.oidc_issuer}/oauth2/authorize"), page.url
        await page.click("button[name='sub'][value='sam.screener']")
        await page.wait_for_url(f"{hub.workspace_url}/**")
        await page.context.clear_cookies()


async def test_a_screener_cannot_reach_the_decision_form(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as screener:
        await sign_in(screener, hub, "sam.screener")
        response = await screener.goto(f"{hub.workspace_url}/cases/MASH-ANY/decision")
        assert response is not None and response.status == 403
        assert "You cannot see this page" in await screener.inner_text("main")
        assert await screener.locator("form[action$='/decision/preview']").count() == 0
        await check_accessibility(screener)
        await visit(screener, f"{hub.workspace_url}/queue")
        await screener.click("button:has-text('Sign out')")
        # Through the identity provider's end_session (RP-initiated logout) and back.
        await screener.wait_for_url(f"{hub.workspace_url}/signed-out")
        assert "You have signed out" in await screener.inner_text("main")
        await check_accessibility(screener)
        await screener.goto(f"{hub.workspace_url}/queue")
        assert screener.url.startswith(f"{hub.oidc_issuer}/oauth2/authorize"), "signed out means signed out"


async def test_an_agency_user_cannot_see_another_agencys_requests(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as police:
        await sign_in(police, hub, "pat.police")
        response = await police.goto(f"{hub.workspace_url}/portal/education")
        assert response is not None and response.status == 403
        assert await police.get_by_test_id("agency-requests").count() == 0
        response = await police.goto(f"{hub.workspace_url}/portal/education/requests/ENQ-ANY")
        assert response is not None and response.status == 403
        response = await police.goto(f"{hub.workspace_url}/queue")
        assert response is not None and response.status == 403
    # The service refuses it too, whatever a page might ask.
    tokens = await provider_sign_in(hub.oidc_issuer or "", "pat.police")
    async with httpx.AsyncClient(base_url=hub.url("enquiry"), headers=tokens.bearer) as api:
        assert (await api.get("/agencies/education/requests")).status_code == 403
        assert (await api.get("/agencies/police/requests")).status_code == 200


async def test_forged_and_expired_tokens_are_refused(hub: Hub) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"iss": hub.oidc_issuer, "aud": "mash-hub", "sub": "morgan.manager", "roles": ["manager"],
                         "exp": 4_102_444_800}, stranger, algorithm="RS256", headers={"kid": "not-the-providers"})
    expired = issue_token(DEVELOPMENT_JWT_SECRET, "morgan.manager", [Role.MANAGER], ttl=timedelta(seconds=-60))
    genuine = await provider_sign_in(hub.oidc_issuer or "", "morgan.manager")
    async with httpx.AsyncClient(base_url=hub.url("decision")) as api:
        for token in (forged, expired, "not-a-token"):
            response = await api.get("/queue", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, response.text
            assert response.json()["message"]
        assert (await api.get("/queue", headers=genuine.bearer)).status_code == 200


async def test_a_form_posted_without_its_csrf_token_is_refused(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/report-a-concern/public")
        for path, form in (("/cases/MASH-ANY/screening", {"rating": "red"}),
                           ("/report-a-concern/public", {"referrer-name": "A neighbour"}),
                           ("/sign-out", {})):
            refused = await manager.request.post(f"{hub.workspace_url}{path}", form=form)
            assert refused.status == 403, path
            forged = await manager.request.post(f"{hub.workspace_url}{path}", form={**form, "csrf_token": "guess"})
            assert forged.status == 403, path
        # Still signed in: the refused sign-out did nothing.
        await visit(manager, f"{hub.workspace_url}/queue")
        assert "Morgan Patel" in await manager.inner_text("body")
