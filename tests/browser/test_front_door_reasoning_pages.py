"""The front door's reasoning in a real browser (issue 23): the screener records the Signs of Safety analysis and the
child's voice beside the rating, the MASH manager moves the safety scale with a rationale, the hand-off preview shows
the analysis, and the decision keeps the screener's version on the case file. axe-core checks every page, the error
summaries included (a scale not chosen at screening; a changed scale without a reason at the decision; a decision
without the child's voice, which the hub refuses as every deployment does).

The contact arrives through intake's API, as in test_quality_assurance_pages.py: what this test is about is the
screening and decision pages.
"""

from __future__ import annotations

import uuid

from playwright.async_api import Browser, Page

from demo.client import HubClient
from demo.hub import Hub
from tests.browser.conftest import sign_in, visit
from tests.browser.desk_steps import at_the_desk, in_state
from tests.support.browser import check_accessibility, new_page

DANGER = "We are worried that Maisie may go without food and warm clothes if nothing changes."
STRENGTHS = "Maisie's mother walks her to school every day and talks with her teacher."
NEXT_STEPS = "Early help to offer the family a key worker this week."
CHILDS_WORDS = "Maisie says she likes school and wants her mum to be less tired."
WHY_CHANGED = "The school told us this morning there has been no food at home for two days."


async def a_contact_at_the_desk(hub: Hub, *, screened_as: str | None = None) -> str:
    """Scenario 5's contact, sent to intake and waiting for screening; or, given `screened_as`, screened with that
    rating and nothing else (no analysis, no child's voice), as a script written before issue 23 screens."""
    client = HubClient(hub)
    try:
        referral_id = await at_the_desk(client, f"reasoning-{uuid.uuid4()}")
        if screened_as:
            screened = await client.desk(referral_id, "screening", {"rating": screened_as}, as_=client.screener)
            screened.raise_for_status()
            await in_state(client, referral_id, "awaiting_decision")
        return referral_id
    finally:
        await client.close()


async def error_summary_links_to(page: Page, target: str) -> None:
    """The page came back with the GOV.UK error summary, its link to `target` moves focus there, axe-core passes."""
    await page.wait_for_selector(".govuk-error-summary")
    assert (await page.title()).startswith("Error:")
    await check_accessibility(page)
    await page.click(f".govuk-error-summary a[href='#{target}']")
    assert await page.evaluate("document.activeElement.id") == target


async def screen_with_the_analysis_and_the_childs_voice(screener: Page, hub: Hub, referral_id: str) -> None:
    await visit(screener, f"{hub.workspace_url}/cases/{referral_id}")
    await screener.fill("#danger_statements", DANGER)
    await screener.fill("#strengths", STRENGTHS)
    await screener.fill("#next_steps", NEXT_STEPS)
    await screener.click("button:has-text('Record screening')")  # an analysis begun needs its scale
    await error_summary_links_to(screener, "safety_scale")
    assert await screener.input_value("#danger_statements") == DANGER, "what was typed is kept"
    await screener.check("input[name='safety_scale'][value='6']")
    await screener.check("input[name='child_known'][value='yes']")
    await screener.fill("#child_views", CHILDS_WORDS)
    await screener.check("input[name='parents_known'][value='no']")
    await screener.check("input[name='parents_not_known_because'][value='not_yet_possible']")
    await screener.fill("#parents_detail", "Mother not yet reached.")
    await screener.click("button:has-text('Record screening')")
    assert "Screening recorded" in await screener.inner_text("main")
    await check_accessibility(screener)
    analysis = await screener.get_by_test_id("risk-analysis").inner_text()
    assert DANGER in analysis and STRENGTHS in analysis and "Safety scale: 6 out of 10" in analysis
    voice = await screener.get_by_test_id("childs-voice").inner_text()
    assert CHILDS_WORDS in voice and "Mother not yet reached." in voice


async def test_screening_reasoning_the_managers_change_of_scale_and_the_hand_off_preview(
    hub: Hub, browser: Browser
) -> None:
    referral_id = await a_contact_at_the_desk(hub)
    async with new_page(browser) as screener:
        await sign_in(screener, hub, "sam.screener")
        await screen_with_the_analysis_and_the_childs_voice(screener, hub, referral_id)

    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/cases/{referral_id}/decision")
        # The manager sanctions the screener's analysis: the form holds it as the screener left it.
        assert await manager.is_checked("input[name='safety_scale'][value='6']")
        assert await manager.input_value("#danger_statements") == DANGER
        assert await manager.input_value("#child_views") == CHILDS_WORDS
        await manager.check("input[name='outcome'][value='early_help']")
        await manager.fill("#rationale", "Early help: a key worker for the family, the school keeps watch.")
        await manager.check("input[name='safety_scale'][value='3']")
        await manager.click("button:has-text('Preview what will be sent')")  # a changed scale needs its reason
        await error_summary_links_to(manager, "risk_analysis_rationale")
        assert await manager.is_checked("input[name='safety_scale'][value='3']"), "the manager's choice is kept"
        await manager.fill("#risk_analysis_rationale", WHY_CHANGED)
        await manager.click("button:has-text('Preview what will be sent')")
        assert "Check what will be sent" in await manager.inner_text("h1")
        await check_accessibility(manager)
        assert "3 out of 10" in await manager.inner_text("main")
        handoff = "\n".join([await message.inner_text()
                             for message in await manager.get_by_test_id("preview-message").all()])
        assert "Safety scale: 3 out of 10" in handoff, "the hand-off carries the manager's scale"
        assert DANGER in handoff and STRENGTHS in handoff and NEXT_STEPS in handoff
        assert CHILDS_WORDS in handoff, "the hand-off carries the child's voice"
        await manager.click("button:has-text('Confirm and send')")
        assert "Decision recorded" in await manager.inner_text("main")
        await check_accessibility(manager)
        assert "Early help" in await manager.get_by_test_id("decision").inner_text()
        main = await manager.inner_text("main")
        assert "Changed and sanctioned by the MASH manager" in main and WHY_CHANGED in main
        assert "Safety scale: 3 out of 10" in await manager.get_by_test_id("risk-analysis").inner_text()
        screeners = manager.get_by_test_id("screeners-analysis")
        await screeners.locator("summary").click()
        assert "Safety scale: 6 out of 10" in await screeners.inner_text(), "the screener's version is kept"
        assert CHILDS_WORDS in await manager.get_by_test_id("childs-voice").inner_text()


async def test_a_decision_without_the_childs_voice_is_refused_until_the_manager_answers(
    hub: Hub, browser: Browser
) -> None:
    referral_id = await a_contact_at_the_desk(hub, screened_as="green")
    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/cases/{referral_id}/decision")
        await manager.check("input[name='outcome'][value='early_help']")
        await manager.fill("#rationale", "Early help: a key worker for the family.")
        await manager.click("button:has-text('Preview what will be sent')")  # nobody recorded the child's voice
        await error_summary_links_to(manager, "child_known")
        await manager.check("input[name='child_known'][value='no']")
        await manager.check("input[name='child_not_known_because'][value='not_yet_possible']")
        await manager.fill("#child_detail", "Maisie is to be seen at school tomorrow.")
        await manager.check("input[name='parents_known'][value='yes']")
        await manager.fill("#parents_views", "Her mother says she wants help with the mornings.")
        await manager.click("button:has-text('Preview what will be sent')")
        assert "Check what will be sent" in await manager.inner_text("h1")
        await check_accessibility(manager)
        handoff = "\n".join([await message.inner_text()
                             for message in await manager.get_by_test_id("preview-message").all()])
        assert "Maisie is to be seen at school tomorrow." in handoff, "the hand-off says why it is not known"
        await manager.click("button:has-text('Confirm and send')")
        assert "Decision recorded" in await manager.inner_text("main")
        await check_accessibility(manager)
        assert "Her mother says she wants help with the mornings." in (
            await manager.get_by_test_id("childs-voice").inner_text())
