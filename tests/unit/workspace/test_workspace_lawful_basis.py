"""The case page shows the lawful basis the contact is held on, and says so when an older contact has none."""

from __future__ import annotations

import pytest

from tests.unit.workspace.workspace_builders import FakeHub, case_view, person, workspace

pytestmark = pytest.mark.unit
MANAGER = person("manager", sub="mgr-okafor")


async def page_for(view: dict[str, object]) -> str:
    hub = FakeHub().on("decision", "GET", "/cases/REF-1", view).on("decision", "GET", "/cases/REF-1/audit", [])
    async with workspace(hub, MANAGER) as client:
        response = await client.get("/cases/REF-1")
    assert response.status_code == 200
    return response.text


async def test_the_case_page_shows_the_lawful_basis_and_an_overridden_consent() -> None:
    view = case_view()
    referral = view["case_file"]["referral"]  # type: ignore[index]
    referral["lawful_basis"] = {"article_6": "UK GDPR Art. 6(1)(e) public task",
                                "article_9": "UK GDPR Art. 9(2)(g) substantial public interest",
                                "dpa_2018_condition": "DPA 2018 Sch. 1 para 18", "statute": None}
    referral["consent"] = {"status": "overridden", "reason": "Risk of significant harm if the parents are told"}

    text = await page_for(view)

    assert "Lawful basis" in text
    assert "UK GDPR Art. 6(1)(e) public task; UK GDPR Art. 9(2)(g) substantial public interest; DPA 2018" in text
    assert "Risk of significant harm if the parents are told" in text


async def test_an_older_contact_says_no_basis_was_recorded() -> None:
    assert "Not recorded on this contact" in await page_for(case_view())
