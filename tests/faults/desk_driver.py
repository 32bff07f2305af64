"""The hub's staff as a reconciling loop, so a contact runs through to its hand-off whatever is killed.

A person at the desk who gets no answer, or an error, looks at the case again and takes the step it is
waiting for; so does this driver. It never assumes a step it asked for happened: it reads the case file
(GET /cases/{id}) and acts on its state, so a step repeated after a lost answer is refused (409) and
simply read past. Contacts are submitted with an Idempotency-Key and retried until accepted.
"""

from __future__ import annotations

import asyncio
import copy
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from demo.client import HubClient
from demo.scenarios import NOT_YET_SOUGHT

RETRY_PAUSE = 0.3  # between polls of a case, and before a retry after an error: a client's pace, not a wait
QUESTIONS = ["What do you know of this family?"]


@dataclass
class Carried:
    """One contact of the run: when it was accepted and decided, and how many calls were retried."""

    key: str
    referral_id: str | None = None
    accepted_at: float | None = None
    decided_at: float | None = None
    retries: int = 0
    steps: list[str] = field(default_factory=list)


def varied(contact: dict[str, Any], n: int) -> dict[str, Any]:
    """The contact about other children (names and ids changed), so no two contacts match or link."""
    other = copy.deepcopy(contact)
    for subject in other["subjects"]:
        subject["subject_id"] = f"{subject['subject_id']}-f{n}"
        subject["family_name"] = f"{subject['family_name']}{chr(65 + n % 26)}{n}"
        subject.pop("nhs_number", None)
    return other


async def _submit(client: HubClient, contact: dict[str, Any], carried: Carried) -> None:
    while True:
        try:
            response = await client.submit_contact(contact, idempotency_key=carried.key)
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code == 202:
            carried.referral_id = response.json()["referral_id"]
            carried.accepted_at = time.monotonic()
            return
        if response is not None and response.status_code == 429:  # the front door's rate limit: as asked
            carried.retries += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))  # noqa: sleep-ok - the server asked
            continue
        if response is not None and response.status_code < 500:
            raise AssertionError(f"contact refused: {response.status_code} {response.text[:300]}")
        carried.retries += 1
        await asyncio.sleep(RETRY_PAUSE)  # noqa: sleep-ok - a client's back-off between retries


async def _case(client: HubClient, referral_id: str) -> dict[str, Any] | None:
    try:
        return await client.case(referral_id)
    except httpx.HTTPError:
        return None


async def _step(client: HubClient, carried: Carried, case: dict[str, Any], agencies: list[str]) -> bool:
    """Take the step the case waits for; True when it is decided (or routed)."""
    assert carried.referral_id is not None
    referral_id, document = carried.referral_id, case["case_file"]
    state = document["state"]
    if state in {"decided", "routed_to_allocated_worker"}:
        return True
    body: dict[str, Any] | None = None
    step, as_ = "", client.manager
    if state == "awaiting_screening":
        step, as_ = "screening", client.screener
        body = {"rating": document["referral"]["suggested_rating"]["rating"], "childs_voice": NOT_YET_SOUGHT}
    elif state == "awaiting_decision" and document.get("enquiry") is None:
        step = "enquiry"
        body = {"agencies": agencies, "questions": QUESTIONS, "consent_check": "given"}
    elif state == "awaiting_decision":
        recommendation = case["recommendation"]
        step = "decision"
        body = {"outcome": recommendation["outcome"], "rating": recommendation["rating"],
                "rationale": "Decided on the enquiry's findings: " + "; ".join(recommendation["reasons"])[:4000],
                "handoff_item_ids": case["handoff_candidates"]}
    if body is not None:
        try:
            response = await client.desk(referral_id, step, body, as_=as_)
            carried.steps.append(f"{step}:{response.status_code}")
            if response.status_code >= 500:
                carried.retries += 1
        except httpx.HTTPError:
            carried.retries += 1
    return False


async def carry_through(client: HubClient, contact: dict[str, Any], carried: Carried, agencies: list[str]) -> None:
    """Submit `contact` and take it through screening, an enquiry and the decision, riding out failures."""
    await _submit(client, contact, carried)
    assert carried.referral_id is not None
    while True:
        case = await _case(client, carried.referral_id)
        if case is not None and await _step(client, carried, case, agencies):
            carried.decided_at = time.monotonic()
            return
        await asyncio.sleep(RETRY_PAUSE)  # noqa: sleep-ok - polling interval of a driver bounded by its deadline
