"""SCENARIOS #4 carried through the pages only, in a real browser, on the real stack.

A neighbouring authority reports on the professional form; the screener screens; the MASH manager
opens an enquiry; police answer on the agency portal with a sensitive item (carrying a planted
marker), education through the agency kit; the manager sees the sealed item, previews the hand-off
without it and decides; the emails that arrive hold no sealed text. axe-core checks every page.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from playwright.async_api import Browser, Page

from demo.hub import Hub
from demo.postbox import Postbox
from demo.scenarios import DEMO_DIR
from tests.browser.conftest import sign_in, visit
from tests.support.browser import check_accessibility, new_page, screenshot
from tests.support.waiting import eventually

CONTACT = json.loads((DEMO_DIR / "contacts" / "scenario-4-sex-offender-warning.json").read_text(encoding="utf-8"))


async def _report_as_neighbouring_authority(page: Page, hub: Hub) -> str:
    referrer, child, mother = CONTACT["referrer"], CONTACT["subjects"][0], CONTACT["household"][0]
    await visit(page, f"{hub.workspace_url}/report-a-concern")
    await page.click("text=I am a professional")
    await check_accessibility(page)
    await page.fill("#referrer-name", referrer["name"])
    await page.fill("#referrer-role", referrer["role"])
    await page.fill("#referrer-agency", referrer["agency"])
    await page.fill("#referrer-email", referrer["email"])
    await page.fill("#referrer-phone", referrer["phone"])
    await page.fill("#subject-given_name", child["given_name"])
    await page.fill("#subject-family_name", child["family_name"])
    year, month, day = child["date_of_birth"].split("-")
    await page.fill("#subject-date_of_birth-day", day)
    await page.fill("#subject-date_of_birth-month", month)
    await page.fill("#subject-date_of_birth-year", year)
    await page.fill("#subject-address-line", child["address"]["lines"][0])
    await page.fill("#subject-address-town", child["address"]["town"])
    await page.fill("#subject-address-postcode", child["address"]["postcode"])
    await page.fill("#household-given_name", mother["given_name"])
    await page.fill("#household-family_name", mother["family_name"])
    await page.fill("#household-relationship", mother["relationship"])
    await page.check("input[name='concern-categories'][value='sexual_offender_contact']")
    await page.fill("#concern-narrative", CONTACT["concern"]["narrative"])
    await page.fill("#concern-actions_taken", CONTACT["concern"]["actions_taken"])
    await page.check("input[name='consent-status'][value='not_sought']")
    await page.fill("#consent-reason", CONTACT["consent"]["reason"])
    await page.click("button:has-text('Send report')")
    await page.wait_for_url("**/report-a-concern/sent/*")
    await check_accessibility(page)
    reference = (await page.get_by_test_id("reference").inner_text()).strip()
    await page.click("text=See what has happened to your report")
    await check_accessibility(page)
    assert reference in await page.inner_text("main")
    return reference


async def _wait_for_text(page: Page, url: str, text: str, what: str) -> None:
    async def shown() -> bool:
        await page.goto(url)
        return text in await page.inner_text("main")

    await eventually(shown, timeout=60, interval=0.5, what=what)


async def test_scenario_4_through_the_pages(hub: Hub, postbox: Postbox, browser: Browser, page: Page) -> None:
    marker = f"SEALED-{uuid.uuid4().hex}"
    referral_id = await _report_as_neighbouring_authority(page, hub)

    async with new_page(browser) as screener:
        await sign_in(screener, hub, "sam.screener")
        await _wait_for_text(screener, f"{hub.workspace_url}/queue", referral_id, "the referral in the queue")
        await check_accessibility(screener)
        await screenshot(screener, "queue")
        await visit(screener, f"{hub.workspace_url}/queue?rating=red")
        assert referral_id in await screener.inner_text("main")
        await screener.click(f"a:has-text('{referral_id}')")
        await check_accessibility(screener)
        await screener.check("input[name='rating'][value='red']")
        await screener.fill("#rationale", "Suspected sex offender visiting a home where a child lives.")
        await screener.click("button:has-text('Record screening')")
        assert "Screening recorded" in await screener.inner_text("main")
        await check_accessibility(screener)

    async with new_page(browser) as manager:
        await sign_in(manager, hub, "morgan.manager")
        await visit(manager, f"{hub.workspace_url}/cases/{referral_id}")
        await manager.click("text=Open a MASH enquiry")
        await check_accessibility(manager)
        await manager.check("input[name='agencies'][value='police']")
        await manager.check("input[name='agencies'][value='education']")
        await manager.check("input[name='consent_check'][value='not_sought']")
        await manager.fill("#proceed_without_consent_reason", CONTACT["consent"]["reason"])
        await manager.click("button:has-text('Open the enquiry')")
        assert "MASH enquiry opened" in await manager.inner_text("main")

        async with new_page(browser) as police:
            await sign_in(police, hub, "pat.police")
            assert police.url.endswith("/portal/police")
            await _wait_for_text(police, f"{hub.workspace_url}/portal/police", "Hollis", "the request on the portal")
            await check_accessibility(police)
            await screenshot(police, "agency-portal")
            await police.click("a:has-text('Answer')")
            await check_accessibility(police)
            await police.check("input[name='outcome'][value='information_held']")
            await police.check("input[name='rating'][value='red']")
            await police.fill("#item-1-about", "Gary Pike")
            await police.fill("#item-1-summary", f"{marker}: intelligence graded B2 about Gary Pike.")
            await police.check("input[name='item-1-sensitivity'][value='sensitive']")
            await police.click("button:has-text('Send answer to the hub')")
            assert "Your answer has been sent" in await police.inner_text("main")
            await check_accessibility(police)

        # Education answers through the kit; the enquiry completes when both have answered.
        await _wait_for_text(manager, f"{hub.workspace_url}/cases/{referral_id}", "What the agencies found",
                             "the enquiry outcome on the case file")
        sealed = manager.get_by_test_id("sealed-item")
        assert marker in await sealed.inner_text()
        assert "Sensitive: hub staff only" in await sealed.inner_text()
        await check_accessibility(manager)
        await screenshot(manager, "case-file")

        await manager.click("text=Decide")
        await check_accessibility(manager)
        await manager.check("input[name='outcome'][value='child_protection']")
        # Police did not permit release: the item is not a box to tick, only listed as what will be asked for.
        assert await manager.locator("input[name='handoff_item_ids'][value^='police:']").count() == 0
        assert "Police holds sensitive information" in await manager.get_by_test_id("withheld-item").inner_text()
        for box in await manager.locator("input[name='handoff_item_ids'][value^='education:']").all():
            await box.check()
        await manager.fill("#rationale", "Strategy discussion today: a child lives where the man will visit.")
        # Nobody has recorded the child's voice yet; a decision cannot be made without it (issue 23).
        await manager.check("input[name='child_known'][value='no']")
        await manager.check("input[name='child_not_known_because'][value='would_put_child_at_risk']")
        await manager.check("input[name='parents_known'][value='no']")
        await manager.check("input[name='parents_not_known_because'][value='would_put_child_at_risk']")
        await manager.click("button:has-text('Preview what will be sent')")
        await check_accessibility(manager)
        previews = [await p.inner_text() for p in await manager.get_by_test_id("preview-message").all()]
        assert previews, "the preview shows the messages"
        assert not any(marker in text for text in previews)
        assert any("Tiverton Primary School" in text for text in previews), "education's item is handed off"
        await screenshot(manager, "decision-preview")
        await manager.click("button:has-text('Confirm and send')")
        assert "Decision recorded" in await manager.inner_text("main")
        assert "Child protection" in await manager.get_by_test_id("decision").inner_text()

    async def handed_off() -> list[Any] | None:
        mail = [m for m in postbox.mail if referral_id in m.subject]
        return mail if any("hand-off" in m.subject.lower() for m in mail) else None

    mail = await eventually(handed_off, timeout=60, interval=0.3, what="the hand-off email")
    handoff = next(m for m in mail if "hand-off" in m.subject.lower())
    assert "Tiverton Primary School" in handoff.body
    assert not any(marker in m.body or marker in m.subject for m in postbox.mail)
    assert not any(marker in json.dumps(h.payload) for h in postbox.hooks)
