"""Steps the browser tests take through the services' APIs rather than the pages, so that each test drives only the
pages it is about: scenario 5's contact sent to intake and waited for at the desk, and a case waited into a state."""

from __future__ import annotations

import json
from typing import Any

from demo.client import HubClient
from demo.scenarios import DEMO_DIR
from tests.support.waiting import eventually

CONTACT: dict[str, Any] = json.loads(
    (DEMO_DIR / "contacts" / "scenario-5-quiet-worry.json").read_text(encoding="utf-8"))


async def in_state(client: HubClient, referral_id: str, state: str) -> None:
    """Wait (a condition with a timeout) until decision's case file for `referral_id` is in `state`."""

    async def reached() -> bool | None:
        case = await client.case(referral_id)
        return True if case and case["case_file"]["state"] == state else None

    await eventually(reached, timeout=60, what=f"{referral_id} {state.replace('_', ' ')}")


async def at_the_desk(client: HubClient, idempotency_key: str) -> str:
    """Scenario 5's contact, sent to intake and waiting for screening; its referral id."""
    sent = await client.submit_contact(CONTACT, idempotency_key=idempotency_key)
    sent.raise_for_status()
    referral_id: str = sent.json()["referral_id"]
    await in_state(client, referral_id, "awaiting_screening")
    return referral_id
