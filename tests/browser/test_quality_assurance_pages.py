"""Quality assurance in a real browser (issue 23): a MASH manager decides a case; the practice lead finds it in this
week's dip sample, is refused an incomplete audit (the error summary), records the audit, and the manager reads it
on the case page. axe-core checks every page.

The contact is sent and decided through the services' APIs, as demo/scenarios.py carries a scenario: what this test
is about is the practice lead's pages. The draw is the week's: the test audits its own case when it is drawn (the only
early-help decision of the week always is), else the first case drawn that is not audited yet.
"""

from __future__ import annotations

import uuid

from playwright.async_api import Browser

from demo.client import HubClient
from demo.hub import Hub
from demo.scenarios import screening_reasoning
from tests.browser.conftest import sign_in, visit
from tests.browser.desk_steps import CONTACT, at_the_desk, in_state
from tests.support.browser import check_accessibility, new_page

LEARNING = "Browser test: the threshold was right; the school's worry could have been explored sooner."


async def a_decided_case(hub: Hub) -> str:
    """Scenario 5's contact, screened and decided early help by a MASH manager through decision's API."""
    client = HubClient(hub)
    try:
        referral_id = await at_the_desk(client, f"qa-{uuid.uuid4()}")
        screened = await client.desk(referral_id, "screening", {
            "rating": "green", **screening_reasoning("green", CONTACT["concern"]["categories"])}, as_=client.screener)
        screened.raise_for_status()
        decided = await client.desk(referral_id, "decision", {
            "outcome": "early_help", "rationale": "Early help: the school's worry is met by family support."})
        decided.raise_for_status()
        await in_state(client, referral_id, "decided")
        return referral_id
    finally:
        await client.close()


async def test_a_practice_lead_audits_a_case_of_this_weeks_dip_sample(hub: Hub, browser: Browser) -> None:
    ours = await a_decided_case(hub)
    async with new_page(browser) as lead:
        await sign_in(lead, hub, "priya.practicelead")
        assert lead.url.endswith("/dip-sample"), "a practice lead lands on the dip sample"
        await visit(lead, f"{hub.workspace_url}/dip-sample")
        sample = lead.get_by_test_id("dip-sample")
        drawn = [text.strip() for text in await sample.locator("tbody th a").all_inner_texts()]
        assert drawn, "a week with a decision has a sample"
        chosen = ours if ours in drawn else drawn[0]
        await lead.click(f"a[href='/dip-sample/cases/{chosen}']")
        await lead.wait_for_url(f"**/dip-sample/cases/{chosen}")
        await check_accessibility(lead)
        await lead.click("button:has-text('Record the audit')")  # nothing chosen: the error summary
        await lead.wait_for_selector(".govuk-error-summary")
        assert (await lead.title()).startswith("Error:")
        await check_accessibility(lead)
        await lead.click(".govuk-error-summary a[href='#grade']")
        assert await lead.evaluate("document.activeElement.id") == "grade"
        await lead.check("input[name='agrees_with_decision'][value='true']")
        await lead.check("input[name='grade'][value='good']")
        await lead.fill("#learning", LEARNING)
        await lead.click("button:has-text('Record the audit')")
        await lead.wait_for_url(f"**/dip-sample?audited={chosen}")
        assert "recorded" in await lead.inner_text("main")
        await check_accessibility(lead)
        await visit(lead, f"{hub.workspace_url}/dip-sample/cases/{chosen}")
        assert LEARNING in await lead.get_by_test_id("quality-audit").inner_text()
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/cases/{chosen}")
        audit = await manager.get_by_test_id("quality-audit").inner_text()
        assert LEARNING in audit and "Agrees" in audit and "Good" in audit
        response = await manager.goto(f"{hub.workspace_url}/dip-sample")  # the sample is the practice lead's
        assert response is not None and response.status == 403
        await check_accessibility(manager)
