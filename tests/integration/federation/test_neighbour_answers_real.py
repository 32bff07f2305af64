"""Eastshire's decision process answers Westshire's enquiry as `hub-eastshire`, on the real broker with ACLs.

Eastshire's decision service runs as a real process (demo.hub) with the region file; both hubs' ACLs are
granted on their namespaces. The test plays Westshire's research desk: its request goes on Westshire's
request topic for hub-eastshire, and the answer is read from Westshire's response topic for it, as the
enquiry service would read any agency's. A reminder of the same request is answered by nothing new.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from mash_schemas import BragRating, EnquiryRequest, Subject
from mash_schemas.agency import agency_response_event_id
from mash_schemas.enquiry import EnquiryRequested
from mash_schemas.topics import REFERRAL_RECEIVED, agency_response_topic, enquiry_request_topic

from demo.hub import Hub, HubConfig
from tests.integration.decision.desk_harness import (
    consumed,
    desk_over_http,
    desk_settings,
    publish,
    referral,
    referral_received,
    topic_events,
)
from tests.support.infrastructure import Infrastructure
from tests.support.transfer import RECEIVING, SENDING, two_hub_region
from tests.support.waiting import eventually

AGENCY = f"hub-{SENDING}"
KAI = Subject(subject_id="s1", given_name="Kai", family_name="Turner", date_of_birth=date(2019, 4, 2))


def westshire_request(request_id: str) -> EnquiryRequested:
    """Westshire's research desk asking Eastshire, as it asks any agency."""
    request = EnquiryRequest(
        request_id=request_id, enquiry_id="ENQ-WEST-1", referral_id=f"WEST-{request_id}", agency=AGENCY,
        subjects=[KAI], due_at=datetime.now(UTC) + timedelta(hours=4), lawful_basis="Children Act 1989 s47",
        consent_position="not sought: risk of significant harm")
    return EnquiryRequested.build(request, correlation_id=request.referral_id, producer="enquiry")


async def test_eastshire_answers_westshires_enquiry_from_its_records_once(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path
) -> None:
    region, region_file = two_hub_region(namespace, tmp_path)
    east_hub, west_hub = region.hub(SENDING), region.hub(RECEIVING)
    east = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=east_hub.namespace, workdir=tmp_path / "east",
                         service_env={"decision": {"MASH_REGION_FILE": str(region_file)}}))
    west = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=west_hub.namespace, workdir=tmp_path / "west"))
    west.service_process("enquiry")  # grants Westshire's ACLs; its enquiry service itself is played by the test
    request_topic = west_hub.topic(enquiry_request_topic(AGENCY))
    response_topic = west_hub.topic(agency_response_topic(AGENCY))
    admin = AIOKafkaAdminClient(bootstrap_servers=infrastructure.kafka_bootstrap)
    await admin.start()
    try:  # Westshire's enquiry service would create them for its member hub-eastshire
        await admin.create_topics([NewTopic(request_topic, 3, 1), NewTopic(response_topic, 3, 1)])
    finally:
        await admin.close()
    settings = desk_settings(infrastructure, east_hub.namespace, mongo_database=east.database("decision"))
    try:
        await east.start_service("decision")
        async with desk_over_http(settings, east.url("decision")) as desk:
            known = referral("scenario-5-quiet-worry.json", rating=BragRating.AMBER)
            known = known.model_copy(update={"subjects": [KAI]})
            await desk.publish(REFERRAL_RECEIVED, referral_received(known))
            await desk.case_in(known.referral_id, "awaiting_screening")

            request_id = f"REQ-{uuid.uuid4().hex[:8]}"
            await publish(desk.bootstrap, request_topic, westshire_request(request_id))

            async def answered() -> list[dict[str, Any]] | None:
                found = [e for e in await topic_events(desk.bootstrap, response_topic)
                         if e["payload"]["request_id"] == request_id]
                return found or None

            [answer] = await eventually(answered, timeout=60, interval=0.5, what="Eastshire's answer")
            assert answer["event_id"] == str(agency_response_event_id(request_id, AGENCY))
            payload = answer["payload"]
            assert (payload["agency"], payload["outcome"]) == (AGENCY, "information_held")
            assert {item["item_id"] for item in payload["items"]} == {
                "contacts-12-months", f"open-{known.referral_id}"[:64]}

            reminder = await publish(desk.bootstrap, request_topic, westshire_request(request_id))
            await consumed(desk.bootstrap, f"{east_hub.namespace}.decision.neighbour.{RECEIVING}", request_topic,
                           *reminder)
            assert len([e for e in await topic_events(desk.bootstrap, response_topic)
                        if e["payload"]["request_id"] == request_id]) == 1

            listed = await desk.http.get("/neighbour-answers", headers=desk.manager)
            assert listed.status_code == 200, listed.text
            assert [(given["asked_by"], given["answer"]["request_id"]) for given in listed.json()] == [
                (RECEIVING, request_id)]
    finally:
        east.stop()


async def test_westshires_enquiry_to_eastshire_comes_back_with_what_eastshire_knew(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path
) -> None:
    """Both hubs' real processes: Westshire's manager asks hub-eastshire; Eastshire's desk answers; Westshire's
    case file gets the answer as an agency's findings."""
    region, region_file = two_hub_region(namespace, tmp_path)
    east_hub, west_hub = region.hub(SENDING), region.hub(RECEIVING)
    with_region = {"MASH_REGION_FILE": str(region_file)}
    east = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=east_hub.namespace, workdir=tmp_path / "east", service_env={"decision": with_region}))
    west = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                         namespace=west_hub.namespace, workdir=tmp_path / "west",
                         service_env={"decision": with_region, "enquiry": with_region}))
    east_settings = desk_settings(infrastructure, east_hub.namespace, mongo_database=east.database("decision"))
    west_settings = desk_settings(infrastructure, west_hub.namespace, mongo_database=west.database("decision"))
    try:
        await west.start_service("enquiry")  # creates Westshire's topics for hub-eastshire
        await west.start_service("decision")
        await east.start_service("decision")
        async with (desk_over_http(east_settings, east.url("decision")) as eastshire,
                    desk_over_http(west_settings, west.url("decision")) as westshire):
            known = referral("scenario-5-quiet-worry.json", rating=BragRating.AMBER).model_copy(
                update={"subjects": [KAI]})
            await eastshire.publish(REFERRAL_RECEIVED, referral_received(known))
            await eastshire.case_in(known.referral_id, "awaiting_screening")

            moved = referral("scenario-5-quiet-worry.json", rating=BragRating.AMBER).model_copy(
                update={"subjects": [KAI]})
            rid = moved.referral_id
            await westshire.publish(REFERRAL_RECEIVED, referral_received(moved))
            await westshire.case_in(rid, "awaiting_screening")
            assert (await westshire.step(rid, "screening", {"rating": "amber"})).status_code == 200
            opened = await westshire.step(rid, "enquiry", {"agencies": [AGENCY], "consent_check": "given"})
            assert opened.status_code == 202, opened.text

            view = await westshire.case_in(rid, "awaiting_decision")
            [findings] = view["case_file"]["enquiry_outcome"]["findings"]
            assert (findings["agency"], findings["outcome"]) == (AGENCY, "information_held")
            assert {item["item_id"] for item in findings["items"]} == {
                "contacts-12-months", f"open-{known.referral_id}"[:64]}
            given = (await eastshire.http.get("/neighbour-answers", headers=eastshire.manager)).json()
            assert [(answer["asked_by"], answer["answer"]["referral_id"]) for answer in given] == [(RECEIVING, rid)]
    finally:
        east.stop()
        west.stop()
