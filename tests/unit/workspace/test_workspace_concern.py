"""'Report a concern': the GOV.UK error summary, intake's refusals on the form, the reference and the status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from mash_workspace.pages.concern import FIELDS, contact_from, field_of
from starlette.datastructures import FormData

from tests.unit.workspace.workspace_builders import CSRF, FakeHub, workspace

pytestmark = pytest.mark.unit

GOOD_FORM = {
    "referrer-name": "Priya Shah", "referrer-role": "designated safeguarding lead",
    "referrer-agency": "Hill Primary School", "referrer-email": "p.shah@hill.sch.uk",
    "subject-kind": "child", "subject-given_name": "Lily", "subject-family_name": "Evans",
    "subject-date_of_birth-day": "1", "subject-date_of_birth-month": "6", "subject-date_of_birth-year": "2018",
    "subject-address-line": "12 Orchard Way", "subject-address-town": "Exeter", "subject-address-postcode": "EX1 1AA",
    "household-given_name": "Dawn", "household-family_name": "Evans", "household-relationship": "mother",
    "concern-categories": ["neglect", "parental_substance_misuse"],
    "concern-narrative": "Lily has come to school hungry every day this week.",
    "consent-status": "given",
}
ACCEPTED = {"referral_id": "REF-77", "status": "received", "status_url": "/contacts/REF-77", "status_token": "st-77"}


def summary_links(page: str) -> list[tuple[str, str]]:
    """(href, text) of each link in the GOV.UK error summary."""
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return [(href, text.strip()) for href, text in re.findall(r'<a href="([^"]+)">\s*(.*?)\s*</a>', summary, re.S)]


def hidden(page: str, name: str) -> str:
    """A hidden field's value in the page."""
    found = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert found, f"no {name} in the page"
    return found.group(1)


def csrf_of(page: str) -> str:
    return hidden(page, "csrf_token")


def element_ids(page: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', page))


def form(fields: dict[str, Any]) -> FormData:
    items = [(key, v) for key, value in fields.items() for v in (value if isinstance(value, list) else [value])]
    return FormData(items)


async def test_an_empty_report_lists_every_missing_answer_in_the_error_summary() -> None:
    hub = FakeHub()
    async with workspace(hub) as client:
        blank = (await client.get("/report-a-concern/professional")).text  # starts a session with a CSRF token
        response = await client.post("/report-a-concern/professional", data={"csrf_token": csrf_of(blank)})

    assert response.status_code == 400
    page = response.text
    assert "<title>Error: " in page
    assert "There is a problem" in page
    links = summary_links(page)
    assert links[0] == ("#referrer-name", "Enter your name")
    hrefs = [href for href, _ in links]
    for expected in ("#referrer-role", "#referrer-email", "#subject-family_name", "#concern-categories",
                     "#concern-narrative", "#consent-status"):
        assert expected in hrefs
    assert hrefs == sorted(hrefs, key=lambda href: FIELDS.index(href[1:])), "in the order of the form"
    ids = element_ids(page)
    assert all(href[1:] in ids for href in hrefs), "every link lands on an input"
    assert 'id="referrer-name-error"' in page, "and each message is beside its field"
    assert hub.calls == []


async def test_a_date_error_links_to_the_first_input_of_the_date() -> None:
    async with workspace(FakeHub(), None, csrf=CSRF) as client:
        response = await client.post("/report-a-concern/professional", data={
            **GOOD_FORM, "csrf_token": CSRF, "subject-date_of_birth-day": "31", "subject-date_of_birth-month": "2"})

    assert response.status_code == 400
    [(href, text)] = summary_links(response.text)
    assert text == "Date of birth must be a real date, for example 27 3 2019"
    assert href == "#subject-date_of_birth-day"
    assert href[1:] in element_ids(response.text)
    assert 'value="31"' in response.text, "what the person typed is kept"


async def test_the_form_keeps_what_was_typed_when_it_comes_back() -> None:
    async with workspace(FakeHub(), None, csrf=CSRF) as client:
        response = await client.post("/report-a-concern/public", data={
            **GOOD_FORM, "csrf_token": CSRF, "referrer-name": ""})

    assert response.status_code == 400
    page = response.text
    assert 'value="Evans"' in page
    assert "Lily has come to school hungry every day this week." in page
    assert re.search(r'value="neglect"\s+checked', page)
    assert re.search(r'value="parental_substance_misuse"\s+checked', page)
    assert CSRF not in page.split('name="csrf_token"', 1)[0], "the token is only in its hidden field"


@pytest.mark.parametrize(("path", "field"), [
    ("subjects.0.address.postcode", "subject-address-postcode"),
    ("subjects.0.address.lines.0", "subject-address-line"),
    ("subjects.0.date_of_birth", "subject-date_of_birth"),
    ("subjects.0.nhs_number", "subject-nhs_number"),
    ("subjects.0", "subject-kind"),
    ("household.0.relationship", "household-relationship"),
    ("referrer.email", "referrer-email"),
    ("referrer", "referrer-name"),
    ("concern.narrative", "concern-narrative"),
    ("concern.categories.0", "concern-categories"),
    ("concern", "concern-categories"),
    ("consent.reason", "consent-reason"),
    ("<body>", "referrer-name"),
])
def test_intakes_field_paths_map_to_the_forms_inputs(path: str, field: str) -> None:
    assert field_of(path) == field


async def test_intakes_refusal_comes_back_on_the_field_it_named() -> None:
    hub = FakeHub().on("intake", "POST", "/contacts", status=422, body={
        "error": "invalid_request", "message": "Some fields need correcting.",
        "fields": [{"field": "subjects.0.address.postcode", "message": "Enter a real postcode, like EX1 1AA"}]})
    async with workspace(hub, None, csrf=CSRF) as client:
        response = await client.post("/report-a-concern/professional", data={
            **GOOD_FORM, "csrf_token": CSRF, "subject-address-postcode": "NOT A POSTCODE"})

    assert response.status_code == 400
    assert summary_links(response.text) == [("#subject-address-postcode", "Enter a real postcode, like EX1 1AA")]
    assert 'id="subject-address-postcode-error"' in response.text
    assert 'value="NOT A POSTCODE"' in response.text
    assert len(hub.calls) == 1


async def test_intake_failing_says_the_report_was_not_sent() -> None:
    hub = FakeHub().on("intake", "POST", "/contacts", status=503, body={"error": "http_error", "message": "broker down"})
    async with workspace(hub, None, csrf=CSRF) as client:
        response = await client.post("/report-a-concern/public", data={**GOOD_FORM, "csrf_token": CSRF})

    assert response.status_code == 502
    assert "Your report was not sent" in response.text
    assert "call 999" in response.text.lower() or "phone the hub" in response.text


async def test_a_good_report_goes_to_intake_once_and_gives_a_reference_and_a_status_page() -> None:
    hub = (FakeHub().on("intake", "POST", "/contacts", ACCEPTED, status=202)
           .on("intake", "GET", "/contacts/REF-77", {"referral_id": "REF-77", "status": "screening",
                                                     "received_at": "2026-03-04T09:30:00+00:00", "outcome": None,
                                                     "history": [{"at": "2026-03-04T09:30:00+00:00",
                                                                  "what": "Received"}]}))
    async with workspace(hub) as client:
        blank = (await client.get("/report-a-concern/professional")).text
        submission = hidden(blank, "submission_id")
        response = await client.post("/report-a-concern/professional",
                                     data={**GOOD_FORM, "csrf_token": csrf_of(blank), "submission_id": submission})
        sent = await client.get(response.headers["location"])
        status = await client.get("/report-a-concern/status/REF-77")

    assert response.status_code == 303
    assert response.headers["location"] == "/report-a-concern/sent/REF-77"
    [posted, asked] = hub.calls
    assert (posted.service, posted.method, posted.path) == ("intake", "POST", "/contacts")
    assert posted.headers["idempotency-key"] == f"workspace-{submission}"
    assert posted.headers["contact-channel"] == "web_form", "recorded as a web form contact, not an api client's"
    assert posted.bearer is None, "a referrer has no token: the contact is public"
    assert posted.body == contact_from(form(GOOD_FORM), "professional", {})
    assert posted.body["referrer"] == {"name": "Priya Shah", "role": "designated safeguarding lead",
                                       "is_member_of_public": False, "email": "p.shah@hill.sch.uk", "phone": None,
                                       "agency": "Hill Primary School"}
    assert posted.body["subjects"][0]["date_of_birth"] == "2018-06-01"
    assert posted.body["subjects"][0]["address"] == {"lines": ["12 Orchard Way"], "town": "Exeter",
                                                     "postcode": "EX1 1AA"}
    assert posted.body["concern"]["categories"] == ["neglect", "parental_substance_misuse"]
    assert posted.body["household"] == [{"given_name": "Dawn", "family_name": "Evans", "relationship": "mother"}]

    assert sent.status_code == 200
    assert 'data-testid="reference">REF-77<' in sent.text
    assert status.status_code == 200
    assert (asked.method, asked.path, asked.bearer) == ("GET", "/contacts/REF-77", "st-77")
    assert "Screening" in status.text


async def test_the_same_form_sent_twice_is_the_same_contact() -> None:
    hub = FakeHub().on("intake", "POST", "/contacts", ACCEPTED, status=202)
    async with workspace(hub, None, csrf=CSRF) as client:
        for _ in range(2):
            await client.post("/report-a-concern/public",
                              data={**GOOD_FORM, "csrf_token": CSRF, "submission_id": "one-form"})

    keys = {call.headers["idempotency-key"] for call in hub.calls}
    assert keys == {"workspace-one-form"}


async def test_a_public_report_says_it_comes_from_a_member_of_the_public() -> None:
    hub = FakeHub().on("intake", "POST", "/contacts", ACCEPTED, status=202)
    async with workspace(hub, None, csrf=CSRF) as client:
        await client.post("/report-a-concern/public", data={
            **GOOD_FORM, "csrf_token": CSRF, "referrer-role": "neighbour", "referrer-email": ""})

    [call] = hub.calls
    assert call.body["referrer"]["is_member_of_public"] is True
    assert call.body["referrer"]["role"] == "member of the public (neighbour)"
    assert "agency" not in call.body["referrer"]


async def test_an_unborn_child_needs_an_expected_date_and_sends_no_date_of_birth() -> None:
    errors: dict[str, str] = {}
    contact_from(form({**GOOD_FORM, "subject-kind": "unborn_child"}), "professional", errors)
    assert errors == {"subject-expected_date": "Enter the expected date of birth of the unborn child"}

    errors = {}
    contact = contact_from(form({**GOOD_FORM, "subject-kind": "unborn_child", "subject-expected_date-day": "1",
                                 "subject-expected_date-month": "9", "subject-expected_date-year": "2030"}),
                           "professional", errors)
    assert errors == {}
    assert contact["subjects"][0]["expected_date"] == "2030-09-01"
    assert contact["subjects"][0]["date_of_birth"] is None


@pytest.mark.parametrize("path", ["/report-a-concern/sent/REF-77", "/report-a-concern/status/REF-77"])
async def test_a_reference_not_made_in_this_browser_shows_nothing(path: str) -> None:
    hub = FakeHub()
    async with workspace(hub) as client:
        response = await client.get(path)

    assert response.status_code == 404
    assert "REF-77" not in response.text
    assert hub.calls == []


async def test_an_unknown_kind_of_form_is_a_page_not_found() -> None:
    async with workspace(FakeHub()) as client:
        response = await client.get("/report-a-concern/anonymous")

    assert response.status_code == 404
    assert "Page not found" in response.text
