"""Intake killed between writing a contact and publishing it: the relay publishes it on restart, once.

Intake runs as an OS process (demo.hub). Run under tests.support.crash_before_publish, its relay exits the
process (status 137, as a SIGKILL would) right before its first publish, i.e. after the contact and its
outbox entry are durably written and the referrer has had the 202.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from mash_schemas.topics import REFERRAL_RECEIVED
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig
from tests.integration.intake.conftest import DEMO, messages_on
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually


async def test_a_contact_written_before_a_crash_is_published_exactly_once_after_restart(
    infrastructure: Infrastructure, namespace: str, tmp_path: Path, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    hub = Hub(HubConfig(kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                        namespace=namespace, workdir=tmp_path))
    topic = f"{namespace}.{REFERRAL_RECEIVED}"
    contacts = mongo[hub.database("intake")]["contacts"]
    contact = json.loads((DEMO / "contacts" / "scenario-1-bike-theft.json").read_text(encoding="utf-8"))
    try:
        await hub.start_service("intake", wrapper="tests.support.crash_before_publish")
        doomed = hub.services["intake"]
        async with httpx.AsyncClient(timeout=15.0) as http:
            response = await http.post(f"{hub.url('intake')}/contacts", json=contact,
                                       headers={"Idempotency-Key": f"police-form-{uuid.uuid4()}"})
        # The 202 came back: the contact and its event were written before the relay tried to publish.
        assert response.status_code == 202, response.text
        referral_id = response.json()["referral_id"]

        exit_status = await asyncio.to_thread(doomed.wait_exit, 60)
        assert exit_status == 137

        # Dead, with the event still waiting in the contact's outbox and nothing on the topic.
        stored = await contacts.find_one({"_id": referral_id})
        assert stored is not None
        assert stored["status"] == "received"
        assert stored["_outbox_pending"] is True
        assert [entry["event_type"] for entry in stored["_outbox"]] == ["referral.received"]
        assert await messages_on(infrastructure.kafka_bootstrap, topic) == 0

        recorder = TopicRecorder(infrastructure.kafka_bootstrap, [topic])
        async with recorder.running():
            await hub.start_service("intake")  # the same service, without the fault

            async def published() -> bool:
                return any(r.key == referral_id for r in recorder.on(topic))

            await eventually(published, timeout=60, what=f"referral.received for {referral_id} after restart")

            async def cleared() -> bool:
                doc = await contacts.find_one({"_id": referral_id})
                return doc is not None and doc["_outbox_pending"] is False and doc["_outbox"] == []

            await eventually(cleared, timeout=30, what="the outbox cleared after publishing")
            total = await messages_on(infrastructure.kafka_bootstrap, topic)
            records = list(recorder.on(topic))
    finally:
        hub.stop()

    assert total == 1
    [record] = records
    event = record.json()
    assert event["event_type"] == "referral.received"
    assert event["event_id"] == stored["_outbox"][0]["event_id"]  # the very event written before the crash
    assert event["payload"]["referral_id"] == referral_id
    assert event["payload"]["concern"]["narrative"] == contact["concern"]["narrative"]
