"""Information governance in a real browser (issue 15): a manager starts a subject access request, reads the
answer and extends its deadline, runs "who looked", and the police see the permission requests page; axe-core checks every page."""

from __future__ import annotations

from playwright.async_api import Browser

from demo.hub import Hub
from tests.browser.conftest import sign_in, visit
from tests.support.browser import check_accessibility, new_page


async def test_a_manager_starts_a_subject_access_request_and_runs_who_looked(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/subject-access")
        await manager.fill("#family_name", "Nobody-Known")
        await manager.fill("#reason", "Browser test: request received by letter")
        await manager.click("button:has-text('Start the request')")
        await manager.wait_for_url(f"{hub.workspace_url}/subject-access/SAR-*")
        assert "Request started" in await manager.inner_text("main")
        await check_accessibility(manager)
        await manager.click("button:has-text('Extend the deadline')")  # no reason: the error summary
        await manager.wait_for_selector(".govuk-error-summary")
        await check_accessibility(manager)
        await manager.fill("#reason", "Browser test: complex request across every service")
        await manager.click("button:has-text('Extend the deadline')")
        await manager.wait_for_url(lambda url: url.endswith("?extended=1"))
        assert "Deadline extended to" in await manager.inner_text("main")
        await check_accessibility(manager)
        await visit(manager, f"{hub.workspace_url}/subject-access")
        requests = await manager.inner_text("[data-testid='requests']")
        assert "Nobody-Known" in requests and "Extended" in requests
        await visit(manager, f"{hub.workspace_url}/who-looked")
        await manager.fill("#referral_id", "MASH-NONE")
        await manager.fill("#reason", "browser test")
        await manager.click("button:has-text('Show the report')")
        await manager.wait_for_selector("[data-testid='audit']")
        await check_accessibility(manager)


async def test_an_agency_sees_its_permission_requests_and_a_screener_no_governance_page(
    hub: Hub, browser: Browser
) -> None:
    async with new_page(browser) as police:
        await sign_in(police, hub, "pat.police")
        await visit(police, f"{hub.workspace_url}/portal/police/subject-access")
        assert "permission to release" in await police.inner_text("h1")
    async with new_page(browser) as screener:
        await sign_in(screener, hub, "sam.screener")
        response = await screener.goto(f"{hub.workspace_url}/subject-access")
        assert response is not None and response.status == 403
        await check_accessibility(screener)
