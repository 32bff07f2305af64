"""The sealed hub, read off the wire: what the real SMTP server and webhook receiver got for one decision
with a shared item, a sealed item and an item its agency released in a permitted form."""

from __future__ import annotations

import json
from typing import Any

from mash_schemas.topics import DECISION_MADE
from pymongo import AsyncMongoClient

from demo.postbox import Postbox
from demo.waiting import eventually
from tests.integration.notify.conftest import RunNotify
from tests.integration.notify.notify_support import (
    AGENCY_EMAILS,
    ASSESSMENT_TEAM_EMAIL,
    HEALTH_SHARED,
    OPERATIONS,
    POLICE_ROUTE,
    POLICE_SEALED,
    PROBATION_PERMITTED,
    PROBATION_SEALED,
    REFERRER_EMAIL,
    decision_made,
    new_referral_id,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import produce_raw

SEALED = [POLICE_SEALED, PROBATION_SEALED, "mother's partner"]  # the sealed items' text and whom they are about
EVERY_ITEM = [*SEALED, HEALTH_SHARED, PROBATION_PERMITTED, POLICE_ROUTE]


async def test_hand_off_carries_shared_and_permitted_wording_and_feedback_carries_no_item(
    infrastructure: Infrastructure, postbox: Postbox, notify_env: dict[str, str], notify_database: str,
    run_notify: RunNotify,
) -> None:
    referral_id = new_referral_id()
    event = decision_made(referral_id)
    on_the_topic = event.model_dump_json()
    for sealed in SEALED:  # notify renders all of this without ever being sent the sealed text
        assert sealed not in on_the_topic
    async with run_notify(notify_env) as (settings, http):
        await produce_raw(infrastructure.kafka_bootstrap, settings.topic(DECISION_MADE),
                          event.model_dump_json().encode(), key=referral_id.encode())

        async def all_sent() -> list[dict[str, Any]] | None:
            response = await http.get("/deliveries", params={"referral_id": referral_id}, headers=OPERATIONS)
            found: list[dict[str, Any]] = response.json()
            return found if len(found) == 7 and all(d["status"] == "sent" for d in found) else None

        await eventually(all_sent, timeout=30, what="every delivery sent")

    # The hand-off email: the shared item in full, the released item only in its permitted wording,
    # and for the sealed item only who holds information and how to request it.
    (handoff,) = postbox.mail_to(ASSESSMENT_TEAM_EMAIL)
    assert HEALTH_SHARED in handoff.body
    assert PROBATION_PERMITTED in handoff.body
    assert event.payload.rationale in handoff.body
    assert f"Police holds information relevant to Lily Evans's safety. To request it: {POLICE_ROUTE}." in handoff.body
    for sealed in SEALED:
        assert sealed not in handoff.body

    # The hand-off webhook: the same gate, in the signed JSON.
    (hook,) = [h for h in postbox.hooks if h.path == "/hooks/assessment-team"]
    assert hook.signature_valid
    content = hook.payload["content"]
    assert [(i["agency"], i["basis"], i["wording"]) for i in content["shared_items"]] == [
        ("health", "non_sensitive", HEALTH_SHARED), ("probation", "released_by_agency", PROBATION_PERMITTED)]
    assert [n["agency"] for n in content["withheld_notices"]] == ["police"]
    wire = json.dumps(hook.payload, ensure_ascii=False)
    for sealed in SEALED:
        assert sealed not in wire

    # The referrer's feedback and the agencies' notices: the outcome in plain words, none of the items.
    (feedback,) = postbox.mail_to(REFERRER_EMAIL)
    assert "assessment team for a social work assessment" in feedback.body
    notices = [mail for address in AGENCY_EMAILS.values() for mail in postbox.mail_to(address)]
    notices_by_hook = [h for h in postbox.hooks if h.path == "/hooks/police"]
    assert len(notices) == 3 and len(notices_by_hook) == 1
    for text in [feedback.subject + feedback.body, *(m.subject + m.body for m in notices),
                 *(json.dumps(h.payload, ensure_ascii=False) for h in notices_by_hook)]:
        for item in EVERY_ITEM:
            assert item not in text
        assert event.payload.rationale not in text

    # Each release of the hand-off is in the audit log, by id (email and webhook).
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
    try:
        released = await mongo[notify_database]["audit"].find(
            {"referral_id": referral_id, "action": "release_handoff"}).to_list()
    finally:
        await mongo.close()
    assert sorted(r["what"]["channel"] for r in released) == ["email", "webhook"]
