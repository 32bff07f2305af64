"""The figures pages in a real browser (issue 23 item 3): a manager opens the Thresholds tab, whose tables carry
captions and whose small numbers show as "<5"; axe-core checks the page."""

from __future__ import annotations

from playwright.async_api import Browser

from demo.hub import Hub
from tests.browser.conftest import sign_in, visit
from tests.support.browser import new_page


async def test_a_manager_reads_threshold_consistency_on_the_figures_pages(hub: Hub, browser: Browser) -> None:
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/insight")
        await manager.click("a:has-text('Thresholds')")
        await manager.wait_for_url(f"{hub.workspace_url}/insight/thresholds")
        await visit(manager, f"{hub.workspace_url}/insight/thresholds?by=month")
        assert "Threshold consistency" in await manager.inner_text("h1")
        for testid in ("agreement-all", "changes", "flows", "outcomes-safety_scale", "drift"):
            table = manager.locator(f"[data-testid='{testid}']")
            assert await table.locator("caption").count() == 1
        assert "<5" in await manager.inner_text("[data-testid='drift']")
