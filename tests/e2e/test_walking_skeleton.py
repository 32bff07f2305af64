"""The thin path end to end: a contact POSTed to intake reaches a decision and a hand-off, across all
four services on the real broker and store, in one trace."""

from __future__ import annotations

import json
from typing import Any

from pymongo import AsyncMongoClient

from demo.client import HubClient
from demo.hub import Hub
from demo.postbox import Postbox
from demo.scenarios import carry, load_scenarios
from demo.waiting import eventually


def _scenario(key: str) -> Any:
    return next(s for s in load_scenarios() if s.key == key)


def _trace_ids(hub: Hub, service: str) -> set[str]:
    path = hub.trace_file(service)
    if not path.exists():
        return set()
    return {json.loads(line)["context"]["trace_id"] for line in path.read_text().splitlines() if line.strip()}


async def test_a_contact_flows_through_all_four_services_to_a_hand_off(
    hub: Hub, client: HubClient, postbox: Postbox
) -> None:
    carried = await carry(client, _scenario("bike-theft"))
    referral_id = carried.referral_id

    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(hub.config.mongo_url, tz_aware=True)
    try:
        async def deliveries_sent() -> list[dict[str, Any]] | None:
            found = await mongo[hub.database("notify")]["deliveries"].find({"referral_id": referral_id}).to_list()
            return found if found and all(d["status"] == "sent" for d in found) else None

        deliveries = await eventually(deliveries_sent, timeout=60, what="every delivery sent")
        contact = await eventually(
            lambda: _find(mongo, hub.database("intake"), "contacts", referral_id, status="decided"),
            timeout=30, what="intake shows the outcome")
        case = await mongo[hub.database("decision")]["case_files"].find_one({"_id": referral_id})
        enquiry = await mongo[hub.database("enquiry")]["enquiries"].find_one({"referral_id": referral_id})
    finally:
        await mongo.close()

    # intake: the contact and its outcome
    assert contact["outcome"] == "statutory_assessment"
    # decision: the case file decided, amber as the agencies' answers said
    assert case is not None
    assert case["state"] == "decided"
    assert case["rating"] == "amber"
    assert carried.decision["outcome"] == "statutory_assessment"
    # enquiry: every agency asked answered, nothing left unsent
    assert enquiry is not None
    assert enquiry["state"] == "completed"
    assert sorted(enquiry["responses"]) == sorted(_scenario("bike-theft").agencies)
    assert enquiry["_outbox"] == []
    # notify: a hand-off, feedback to the referrer, outcome notices to the agencies
    kinds = {d["kind"] for d in deliveries}
    assert {"handoff", "referrer_feedback", "agency_outcome"} <= kinds
    handoff_mail = postbox.mail_to("assessment-team@example.org")
    assert len([m for m in handoff_mail if referral_id in m.body or referral_id in m.subject]) == 1
    feedback = postbox.mail_to("sarah.nolan@westshire-police.example")
    assert len(feedback) == 1

    # one trace: the referral's trace id appears in the spans of all four services
    common = _trace_ids(hub, "intake") & _trace_ids(hub, "decision") & _trace_ids(hub, "enquiry") & \
        _trace_ids(hub, "notify")
    assert common, "no trace id is shared by intake, decision, enquiry and notify"


async def _find(mongo: AsyncMongoClient[dict[str, Any]], database: str, collection: str, key: str,
                **where: Any) -> dict[str, Any] | None:
    return await mongo[database][collection].find_one({"_id": key, **where})
