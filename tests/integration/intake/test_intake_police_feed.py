"""The police notification feed on the real broker and store: a day's batch with good and bad records.

Every good notification is recorded (referred, or kept as information with the rule and reason), every
bad record goes to the dead-letter topic with its reason and origin, and the partition keeps flowing.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from mash_intake.domain.triage import load_triage_rules
from mash_intake.front_door import police_contact_id
from mash_intake.settings import IntakeSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.police import PoliceNotification, PoliceNotificationReceived
from mash_schemas.topics import DEAD_LETTER, POLICE_NOTIFICATION, REFERRAL_RECEIVED
from pymongo import AsyncMongoClient

from tests.integration.intake.conftest import DEMO, messages_on, running_intake
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

ROUTINE = sorted((DEMO / "police").glob("routine-*.json"))
REFERRED = [DEMO / "police" / "scenario-2-antisocial-behaviour.json", DEMO / "police" / "scenario-3-drugs-warrant.json"]


def _notification(path: Path) -> PoliceNotification:
    return PoliceNotification.model_validate_json(path.read_text(encoding="utf-8"))


def _envelope(notification: PoliceNotification) -> PoliceNotificationReceived:
    return PoliceNotificationReceived.build(
        notification, correlation_id=notification.notification_id, producer=f"police:{notification.force}"
    )


def _missing_subjects(notification: PoliceNotification) -> bytes:
    """Well-formed JSON and a proper envelope, but the notification names nobody."""
    event = json.loads(_envelope(notification).model_dump_json())
    del event["payload"]["subjects"]
    event["payload"]["notification_id"] = "WP-PPN-2026-BROKEN-1"
    return json.dumps(event).encode()


class Feed:
    """A force's system producing onto the feed topic, remembering where each record landed."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic
        self.offsets: dict[bytes, int] = {}

    async def send(self, value: bytes, key: str) -> int:
        metadata = await self._producer.send_and_wait(self._topic, value, key=key.encode())
        assert metadata.partition == 0
        self.offsets[value] = metadata.offset
        return int(metadata.offset)


async def test_a_batch_with_good_and_bad_records_is_triaged_dead_lettered_and_keeps_flowing(
    intake_settings: IntakeSettings, mongo: AsyncMongoClient[dict[str, Any]]
) -> None:
    settings = intake_settings
    feed_topic = settings.topic(POLICE_NOTIFICATION)
    # One partition, so "a good record after the bad ones" is an order the consumer must keep to.
    await ensure_topics(settings, [feed_topic], {feed_topic: 1})
    routine = [_notification(path) for path in ROUTINE]
    antisocial, drugs_warrant = (_notification(path) for path in REFERRED)
    not_json = b'{"notification_id": "WP-PPN-2026-118999", "force": "Westshire Pol'
    no_subjects = _missing_subjects(routine[0])
    not_an_event = json.dumps({"notification_id": "WP-PPN-2026-119000", "narrative": "a bare notice"}).encode()
    antisocial_event = _envelope(antisocial)

    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        feed = Feed(producer, feed_topic)
        for notification in routine[:10]:
            await feed.send(_envelope(notification).model_dump_json().encode(), notification.notification_id)
        await feed.send(antisocial_event.model_dump_json().encode(), antisocial.notification_id)
        for bad, key in [(not_json, "WP-PPN-2026-118999"), (no_subjects, "WP-PPN-2026-BROKEN-1"),
                         (not_an_event, "WP-PPN-2026-119000")]:
            await feed.send(bad, key)
        for notification in routine[10:]:
            await feed.send(_envelope(notification).model_dump_json().encode(), notification.notification_id)
        # The force's system sends one notice twice: the same record again, and the notice in a new envelope.
        await feed.send(antisocial_event.model_dump_json().encode(), antisocial.notification_id)
        await feed.send(_envelope(antisocial).model_dump_json().encode(), antisocial.notification_id)
        # The good one after all the bad ones: it must still be handled.
        await feed.send(_envelope(drugs_warrant).model_dump_json().encode(), drugs_warrant.notification_id)
    finally:
        await producer.stop()

    contacts = mongo[settings.mongo_database]["contacts"]
    good = [*routine, antisocial, drugs_warrant]
    referral_topic, dead_topic = settings.topic(REFERRAL_RECEIVED), settings.topic(DEAD_LETTER)
    async with running_intake(settings):
        recorder = TopicRecorder(settings.kafka_bootstrap, [referral_topic, dead_topic])
        async with recorder.running():
            async def all_recorded() -> bool:
                return await contacts.count_documents({}) == len(good)

            await eventually(all_recorded, timeout=60, what=f"{len(good)} notifications recorded")
            await eventually(lambda: _true(len(recorder.on(dead_topic)) == 3), timeout=30, what="three dead letters")
            await eventually(lambda: _true(len(recorder.on(referral_topic)) == 2), timeout=30, what="two referrals")

            async def relayed() -> bool:
                return await contacts.count_documents({"_outbox_pending": True}) == 0

            await eventually(relayed, timeout=30, what="outboxes published and cleared")
            referral_total = await messages_on(settings.kafka_bootstrap, referral_topic)
            dead_total = await messages_on(settings.kafka_bootstrap, dead_topic)
        stored = {doc["_id"]: doc async for doc in contacts.find({})}

    # Nothing dropped: every good notification is a contact, under its stable police contact id.
    assert set(stored) == {police_contact_id(n) for n in good}

    # The routine twenty are kept as information, each with the rule that kept it and its reason.
    kept_by = {rule.id: rule.reason for rule in load_triage_rules().rules if not rule.needs_hub}
    for notification in routine:
        record = stored[police_contact_id(notification)]
        assert record["status"] == "kept_as_information"
        assert record["source"] == "police_notification"
        assert record["triage"]["needs_hub"] is False
        assert record["triage"]["reason"] == kept_by[record["triage"]["rule"]]
        assert record["notification"]["narrative"] == notification.narrative
        assert record["history"][0]["what"] == f"kept as information: {record['triage']['reason']}"
        assert record["_outbox"] == []
    assert {stored[police_contact_id(n)]["triage"]["rule"] for n in routine} == {"domestic-abuse-standard",
                                                                                "adult-only"}

    # Scenarios 2 and 3 need the hub: referred, and published exactly once each, duplicates and all.
    referred_ids = {police_contact_id(antisocial), police_contact_id(drugs_warrant)}
    for contact_id in referred_ids:
        assert stored[contact_id]["status"] == "received"
        assert stored[contact_id]["triage"]["needs_hub"] is True
        assert stored[contact_id]["triage"]["reason"]
    assert referral_total == 2
    referrals = {r.key: r.json() for r in recorder.on(referral_topic)}
    assert set(referrals) == referred_ids
    unborn = referrals[police_contact_id(drugs_warrant)]["payload"]
    assert unborn["source"] == "police_notification"
    assert unborn["subjects"][0]["kind"] == "unborn_child"
    assert unborn["consent"]["status"] == "not_sought"
    assert unborn["referrer"]["agency"] == "Westshire Police"

    # The three bad records are set aside with why and where they came from; the bytes are kept exactly.
    assert dead_total == 3
    letters = {base64.b64decode(r.json()["payload"]["raw_base64"]): r.json()["payload"]
               for r in recorder.on(dead_topic)}
    assert set(letters) == {not_json, no_subjects, not_an_event}
    for raw, letter in letters.items():
        assert letter["origin_topic"] == feed_topic
        assert letter["origin_partition"] == 0
        assert letter["origin_offset"] == feed.offsets[raw]
        assert letter["consumer"] == f"intake/{settings.group('intake.police-feed')}"
        assert letter["error_type"] == "invalid_event"
    assert letters[not_json]["origin_key"] == "WP-PPN-2026-118999"
    assert "json" in letters[not_json]["reason"].lower()
    assert "payload.subjects" in letters[no_subjects]["reason"]
    assert "event_type: missing" in letters[not_an_event]["reason"]  # refused before the envelope is read
    # The reason names fields, never the notice's content.
    assert "bare notice" not in letters[not_an_event]["reason"]


async def _true(value: bool) -> bool:
    return value
