"""Hostile text on the public form (issue 22, defect 5): GOV.UK wording at the field, nothing sent with a NUL.

The real workspace app in front of a fake intake. The form checks the contract's rule for text
(mash_schemas.text) before sending, and turns intake's own refusals into sentences a member of the
public can act on, not pydantic's ("String should have at most 20000 characters").
"""

from __future__ import annotations

import pytest

from tests.unit.workspace.test_workspace_concern import GOOD_FORM, csrf_of, summary_links
from tests.unit.workspace.workspace_builders import FakeHub, workspace

pytestmark = pytest.mark.unit

PUBLIC = {key: value for key, value in GOOD_FORM.items() if key not in ("referrer-agency", "referrer-role")}


async def submit(hub: FakeHub, fields: dict[str, object]) -> tuple[int, str]:
    async with workspace(hub) as client:
        blank = (await client.get("/report-a-concern/public")).text
        response = await client.post("/report-a-concern/public", data={**fields, "csrf_token": csrf_of(blank)})
        return response.status_code, response.text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("concern-narrative", "Hungry\x00 at school",
     "What happened must only include letters, numbers, spaces, punctuation and line breaks"),
    ("referrer-name", "Priya\x1b Shah", "Your full name must only include letters, numbers, spaces and punctuation"),
    ("subject-family_name", "Ev\x7fans", "Their last name must only include letters, numbers, spaces and punctuation"),
])
async def test_a_control_character_is_named_at_its_field_and_nothing_is_sent(
        field: str, value: str, message: str) -> None:
    hub = FakeHub()
    status, page = await submit(hub, {**PUBLIC, field: value})
    assert status == 400
    assert (f"#{field}", message) in summary_links(page)
    assert hub.called("intake", "POST", "/contacts") == []


async def test_a_blank_narrative_asks_for_one() -> None:
    hub = FakeHub()
    status, page = await submit(hub, {**PUBLIC, "concern-narrative": " \u00a0 "})
    assert status == 400
    assert ("#concern-narrative", "Tell us what happened and what worries you") in summary_links(page)


async def test_intakes_refusal_is_worded_for_the_public() -> None:
    refusal = {"error": "invalid_request", "message": "Some fields need correcting.",
               "fields": [{"field": "concern.narrative", "message": "String should have at most 20000 characters"}]}
    hub = FakeHub().on("intake", "POST", "/contacts", refusal, status=422)
    status, page = await submit(hub, PUBLIC)
    assert status == 400
    assert summary_links(page) == [("#concern-narrative", "What happened must be 20,000 characters or fewer")]
    assert "String should have" not in page
