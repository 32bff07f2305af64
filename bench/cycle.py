"""One contact carried through the whole machine with the desk's steps automated.

The benchmark acts as referrer, screener and MASH manager at machine speed: it posts the contact, screens
it as soon as the case file is open, opens an enquiry to the scenario's agencies (simulated, answering at
once), and decides on the desk's recommendation as soon as the case is ready for it. It waits on the
hub's own events (bench.tap) and only then watches the case file's state, in the desk's database and not
through its API (a view over HTTP is audited and opens the sealed case file: thirty contacts watched that
way kept the desk busy with the watching), backing off from 5 ms to `poll_ceiling`. The desk's API is
called for what a screener or manager would do: one view before each step, and the steps.
"""

from __future__ import annotations

import asyncio
import copy
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mash_schemas.topics import ENQUIRY_COMPLETED, NOTIFICATION_SENT, REFERRAL_RECEIVED
from pymongo.asynchronous.collection import AsyncCollection

from bench.tap import Tap
from demo.client import HubClient
from demo.scenarios import NOT_YET_SOUGHT, PROCEED_WITHOUT_CONSENT, Scenario

TIMEOUT = 600.0  # seconds any one step may take before the run is called failed


@dataclass
class CycleTimes:
    """Seconds from the start of the contact's POST."""

    accepted: float  # 202 received
    decision_ready: float  # the case file awaits the manager's decision, with the enquiry's outcome
    handed_off: float  # notify recorded the hand-off as sent


def varied(contact: dict[str, Any], n: int) -> dict[str, Any]:
    """The scenario's contact about different people, so that contacts do not all match each other."""
    changed = copy.deepcopy(contact)
    for subject in changed["subjects"]:
        subject["subject_id"] = f"{subject['subject_id']}-{n}"
        subject["family_name"] = f"{subject['family_name']}{n}"
        subject.pop("nhs_number", None)
    return changed


async def _until(probe: Callable[[], Awaitable[Any]], what: str, ceiling: float = 0.1) -> Any:
    """Call `probe` until it returns something truthy: at once, then backing off from 5 ms to `ceiling`."""
    deadline = time.monotonic() + TIMEOUT
    pause = 0.005
    while True:
        found = await probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(pause)  # the backoff of a bounded wait
        pause = min(pause * 2, ceiling)


async def machine_cycle(
    client: HubClient, tap: Tap, cases: AsyncCollection[dict[str, Any]], scenario: Scenario, n: int,
    poll_ceiling: float = 0.1,
) -> CycleTimes:
    """Carry contact number `n` from its POST to its hand-off; returns when each milestone was reached."""
    started_wall = time.time()
    started = time.perf_counter()
    response = await client.submit_contact(varied(scenario.contact, n), idempotency_key=f"bench-{uuid.uuid4()}")
    response.raise_for_status()
    accepted = time.perf_counter() - started
    referral_id: str = response.json()["referral_id"]

    await tap.first(REFERRAL_RECEIVED, referral_id, TIMEOUT)

    async def in_state(state: str) -> bool:
        found = await cases.find_one({"_id": referral_id}, {"state": 1})
        return found is not None and found["state"] == state

    await _until(lambda: in_state("awaiting_screening"), f"{referral_id} open", poll_ceiling)
    case = await client.case(referral_id, as_=client.screener)
    assert case is not None
    rating = case["case_file"]["referral"]["suggested_rating"]["rating"]
    (await client.desk(referral_id, "screening", {"rating": rating, "childs_voice": NOT_YET_SOUGHT},
                       as_=client.screener)).raise_for_status()
    enquiry: dict[str, Any] = {"agencies": scenario.agencies, "questions": ["What do you know of this family?"]}
    if scenario.contact["consent"]["status"] == "given":
        enquiry["consent_check"] = "given"
    else:
        enquiry["proceed_without_consent_reason"] = PROCEED_WITHOUT_CONSENT
    (await client.desk(referral_id, "enquiry", enquiry)).raise_for_status()

    await tap.first(ENQUIRY_COMPLETED, referral_id, TIMEOUT)
    await _until(lambda: in_state("awaiting_decision"), f"{referral_id} awaiting decision", poll_ceiling)
    decision_ready = time.perf_counter() - started
    case = await client.case(referral_id)
    assert case is not None
    recommendation = case["recommendation"]
    (await client.desk(referral_id, "decision", {
        "outcome": recommendation["outcome"], "rating": recommendation["rating"],
        "rationale": "Decided on the enquiry's findings: " + "; ".join(recommendation["reasons"])[:4000],
        "handoff_item_ids": case["handoff_candidates"],
    })).raise_for_status()

    async def hand_off_sent() -> datetime | None:
        for seen in tap.events(NOTIFICATION_SENT, referral_id):
            if seen.payload.get("kind") == "handoff":
                return datetime.fromisoformat(seen.payload["sent_at"])
        return None

    sent_at = await _until(hand_off_sent, f"{referral_id} handed off", poll_ceiling)
    return CycleTimes(accepted=accepted, decision_ready=decision_ready,
                      handed_off=sent_at.timestamp() - started_wall)
