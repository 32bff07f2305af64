"""A transfer from Eastshire to Westshire arrives exactly once across a kill of either hub's service.

Two hubs of a region share the real broker and store, each in its own namespace: Eastshire's decision service
and Westshire's intake run as real processes (demo.hub). Eastshire's desk takes a moved family's case to
awaiting a decision, with police's sealed item on file. Then:

1. Eastshire's decision is restarted under tests.support.crash_before_publish and the screener transfers:
   the closed case and both events are stored, the process dies (137) before publishing anything.
2. Westshire's intake is restarted under the same hook, and Eastshire's decision normally: its relay
   publishes the stored transfer once; Westshire's intake stores the new contact with its referral and
   dies before publishing it.
3. Westshire's intake restarted normally publishes that referral once and recognises the transfer's
   redelivery; the same transfer published again under a new event id (an operator's replay) changes nothing.

Counted where things land: one `contact.transferred` on Westshire's federation topic, one contact and one
`referral.received` in Westshire, both hubs' audits. The planted marker is found in Eastshire's case file
(the control) and in none of Westshire's records, topics or databases.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from mash_intake.domain.transfer_in import transfer_contact_id
from mash_schemas import BragRating
from mash_schemas.envelope import derived_event_id
from mash_schemas.federation import ContactTransferred
from mash_schemas.topics import ENQUIRY_COMPLETED, FEDERATION_TRANSFER, REFERRAL_RECEIVED
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig
from tests.integration.decision.desk_harness import (
    consumed,
    desk_over_http,
    desk_settings,
    of_referral,
    publish,
    referral,
    referral_received,
    topic_events,
)
from tests.support.infrastructure import Infrastructure
from tests.support.transfer import (
    RECEIVING,
    SENDING,
    TRANSFER_REASON,
    enquiry_completed,
    haystack,
    marker,
    moved_family,
    two_hub_region,
)
from tests.support.waiting import eventually

CRASH_BEFORE_PUBLISH = "tests.support.crash_before_publish"


async def _namespace_records(bootstrap: str, namespace: str) -> list[dict[str, Any]]:
    """Every record on every topic of `namespace` (parsed JSON where it is JSON, else the text)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.startswith(f"{namespace}."))
    finally:
        await admin.close()
    found: list[dict[str, Any]] = []
    for topic in topics:
        found += [{"topic": topic, "record": record} for record in await topic_events(bootstrap, topic)]
    return found


# Six service starts and two crashes: about 80 s on a quiet two-core machine, past the default 300 s hang guard
# on a crowded one (a clean-clone CI rehearsal at load 22).
@pytest.mark.timeout(720)
async def test_a_transfer_arrives_exactly_once_across_a_kill_of_either_hub(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path
) -> None:
    region, region_file = two_hub_region(namespace, tmp_path)
    east_hub, west_hub = region.hub(SENDING), region.hub(RECEIVING)
    east = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=east_hub.namespace, workdir=tmp_path / "east",
                         service_env={"decision": {"MASH_REGION_FILE": str(region_file)}}))
    west = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=west_hub.namespace, workdir=tmp_path / "west",
                         service_env={"intake": {"MASH_REGION_FILE": str(region_file)}}))
    settings = desk_settings(infrastructure, east_hub.namespace, mongo_database=east.database("decision"))
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    west_intake = mongo[west.database("intake")]
    federation_topic = west_hub.topic(FEDERATION_TRANSFER)
    secret = marker()
    try:
        await west.start_service("intake")  # creates Westshire's federation topic, which only it reads
        await east.start_service("decision")
        async with desk_over_http(settings, east.url("decision")) as desk:
            family = moved_family(referral("scenario-5-quiet-worry.json", rating=BragRating.AMBER))
            rid = family.referral_id
            await desk.publish(REFERRAL_RECEIVED, referral_received(family))
            await desk.case_in(rid, "awaiting_screening")
            assert (await desk.step(rid, "screening", {"rating": "amber"}, as_=desk.screener)).status_code == 200
            opened = await desk.step(rid, "enquiry", {"agencies": ["health", "police"], "consent_check": "given"})
            assert opened.status_code == 202, opened.text
            await desk.publish(ENQUIRY_COMPLETED, enquiry_completed(rid, opened.json()["enquiry_id"], secret,
                                                                   family.received_at))
            await desk.case_in(rid, "awaiting_decision")

            # 1. Eastshire's decision dies between storing the transfer and publishing it
            east.services["decision"].stop()
            await east.start_service("decision", wrapper=CRASH_BEFORE_PUBLISH)
            transfer = {"to_hub": RECEIVING, "reason": TRANSFER_REASON}
            try:
                answered: int | None = (await desk.step(rid, "transfer", transfer, as_=desk.screener)).status_code
            except httpx.RemoteProtocolError:
                answered = None  # the process died before answering
            assert await asyncio.to_thread(east.services["decision"].wait_exit, 60) == 137
            assert answered in (202, None)
            stored = await desk.case_files.find_one({"_id": rid})
            assert stored is not None and stored["state"] == "transferred"
            assert sorted(entry["event_type"] for entry in stored["_outbox"]) == ["contact.transferred",
                                                                                 "transfer.sent"]
            assert of_referral(await topic_events(desk.bootstrap, federation_topic), rid) == []

            # 2. Westshire's intake will die between storing the contact and publishing its referral
            west.services["intake"].stop()
            await west.start_service("intake", wrapper=CRASH_BEFORE_PUBLISH)
            await east.start_service("decision")
            assert await asyncio.to_thread(west.services["intake"].wait_exit, 120) == 137
            [crossed] = of_referral(await topic_events(desk.bootstrap, federation_topic), rid)
            transfer_id = f"{SENDING}/{rid}"
            assert crossed["event_id"] == str(derived_event_id(transfer_id, "transferred"))
            contact_id = transfer_contact_id(transfer_id)
            kept = await west_intake["contacts"].find_one({"_id": contact_id})
            assert kept is not None
            assert [entry["event_type"] for entry in kept["_outbox"]] == ["referral.received"]
            assert of_referral(await topic_events(desk.bootstrap, west_hub.topic(REFERRAL_RECEIVED)),
                               contact_id) == []

            # 3. restarted normally, Westshire publishes the referral once; a replay under a new id is recognised
            await west.start_service("intake")

            async def outbox_published() -> bool:
                doc = await west_intake["contacts"].find_one({"_id": contact_id}, {"_outbox": 1})
                return doc is not None and doc.get("_outbox") == []

            await eventually(outbox_published, timeout=60, what="Westshire's referral published")
            replay = ContactTransferred.model_validate({**crossed, "event_id": str(uuid.uuid4())})
            where = await publish(desk.bootstrap, federation_topic, replay)
            await consumed(desk.bootstrap, f"{west_hub.namespace}.intake.transfers-in", federation_topic, *where)

            await desk.outbox_empty(rid)
            on_topic = of_referral(await topic_events(desk.bootstrap, federation_topic), rid)
            assert [event["event_id"] for event in on_topic] == [crossed["event_id"], str(replay.event_id)]
            [referral_in] = of_referral(await topic_events(desk.bootstrap, west_hub.topic(REFERRAL_RECEIVED)),
                                        contact_id)
            origin = referral_in["payload"]["transferred_from"]
            assert (origin["hub_id"], origin["referral_id"]) == (SENDING, rid)
            assert await west_intake["contacts"].count_documents({}) == 1

            # both hubs audited the transfer, once each
            east_actions = [r["action"] for r in await desk.audit(rid)]
            assert east_actions.count("transfer") == 1
            west_audit = await west_intake["audit"].find({"action": "transfer_received"}).to_list()
            assert [record["what"]["transfer_id"] for record in west_audit] == [transfer_id]
            assert (await desk.case(rid)).json()["case_file"]["state"] == "transferred"

            # the sealed marker: in Eastshire's case file (the control), nowhere in Westshire
            east_case = await mongo[east.database("decision")]["case_files"].find({"_id": rid}).to_list()
            assert secret in haystack(east_case)
            westshire: list[Any] = await _namespace_records(desk.bootstrap, west_hub.namespace)
            for name in await west_intake.list_collection_names():
                westshire += await west_intake[name].find().to_list()
            assert any(item["topic"] == federation_topic for item in westshire if "topic" in item)
            assert secret not in haystack(westshire)
            assert secret not in json.dumps(crossed)
    finally:
        east.stop()
        west.stop()
        for hub in (east, west):
            for service in ("decision", "intake"):
                await mongo.drop_database(hub.database(service))
        await mongo.close()

