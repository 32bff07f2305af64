"""The single-document store and the outbox relay, on the real MongoDB-protocol server and broker."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_runtime.broker import build_broker
from mash_runtime.outbox import OutboxEntry
from mash_runtime.relay import OutboxRelay
from mash_runtime.sealing import AtRestCipher
from mash_runtime.settings import HubSettings
from mash_runtime.store import AggregateStore, Change
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.enquiry import AgencyFindings, EnquiryAddendum, EnquiryAddendumRecorded
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually


def _event(referral_id: str) -> EnquiryAddendumRecorded:
    findings = AgencyFindings(agency="health", outcome="nothing_known", responded_at=datetime.now(UTC))
    payload = EnquiryAddendum(enquiry_id="E1", referral_id=referral_id, findings=findings)
    return EnquiryAddendumRecorded.build(payload, correlation_id=referral_id, producer="test")


@pytest.fixture
async def collection(infrastructure: Infrastructure, namespace: str) -> Any:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    yield client[f"{namespace}_runtime"]["aggregates"]
    await client.drop_database(f"{namespace}_runtime")
    await client.close()


async def test_an_event_applied_twice_changes_the_aggregate_once(collection: Any) -> None:
    store = AggregateStore(collection)

    def add_one(state: dict[str, Any] | None) -> Change:
        return Change(state={"count": (state or {}).get("count", 0) + 1})

    event_id = str(uuid.uuid4())
    assert await store.apply("A", add_one, event_id=event_id) is True
    assert await store.apply("A", add_one, event_id=event_id) is False
    assert await store.apply("A", add_one, event_id=str(uuid.uuid4())) is True
    assert (await store.get("A")) == {"count": 2}


async def test_concurrent_writers_lose_no_update(collection: Any) -> None:
    store = AggregateStore(collection)

    def add_one(state: dict[str, Any] | None) -> Change:
        return Change(state={"count": (state or {}).get("count", 0) + 1})

    await asyncio.gather(*(store.apply("B", add_one, event_id=str(uuid.uuid4())) for _ in range(30)))
    assert (await store.get("B")) == {"count": 30}


async def test_relay_publishes_each_pending_event_and_clears_the_outbox(
    collection: Any, infrastructure: Infrastructure, namespace: str
) -> None:
    settings = HubSettings(
        kafka_bootstrap=infrastructure.kafka_bootstrap, topic_namespace=namespace, service_name="relay-test"
    )
    topic = settings.topic("mash.enquiry.addendum")
    await ensure_topics(settings, [topic])
    broker = build_broker(settings)
    store = AggregateStore(collection, cipher=AtRestCipher.from_settings(settings))
    relay = OutboxRelay(broker, [store], settings)
    events = [_event(f"R{i}") for i in range(5)]
    for event in events:
        entry = OutboxEntry.of(event, topic)
        await store.apply(event.correlation_id, lambda _s, e=entry: Change(state={"x": 1}, events=[e]))
    assert await collection.count_documents({"_outbox_pending": True}) == 5
    stored = await collection.find_one({"_id": "R0"})
    sealed = stored["_outbox"][0]["value"]
    assert "{" not in sealed  # sealed at rest: a Fernet token (base64) never holds the event's JSON
    assert json.loads(AtRestCipher.from_settings(settings).open(sealed))["correlation_id"] == "R0"

    recorder = TopicRecorder(infrastructure.kafka_bootstrap, [topic])
    await broker.start()
    try:
        async with recorder.running():
            assert await relay.publish_pending() == 5
            assert await relay.publish_pending() == 0  # cleared: a second pass publishes nothing
            await eventually(lambda: _count(recorder, topic, 5), what="5 events on the topic")
    finally:
        await broker.stop()
    published = {r.json()["event_id"] for r in recorder.on(topic)}
    assert published == {str(e.event_id) for e in events}
    assert all(r.key == r.json()["correlation_id"] for r in recorder.on(topic))
    assert await collection.count_documents({"_outbox_pending": True}) == 0


async def _count(recorder: TopicRecorder, topic: str, n: int) -> bool:
    return len(recorder.on(topic)) >= n


async def test_a_write_marks_its_aggregate_and_the_relay_publishes_it_without_a_scan(
    collection: Any, infrastructure: Infrastructure, namespace: str
) -> None:
    settings = HubSettings(kafka_bootstrap=infrastructure.kafka_bootstrap, topic_namespace=namespace,
                           service_name="relay-test")
    topic = settings.topic("mash.enquiry.addendum")
    await ensure_topics(settings, [topic])
    broker = build_broker(settings)
    store = AggregateStore(collection)
    relay = OutboxRelay(broker, [store], settings)
    store.on_events = lambda aggregate_id: relay.mark(store, aggregate_id)
    # Left pending by an earlier process: only a full scan finds it.
    orphan = OutboxEntry.of(_event("orphan"), topic)
    await AggregateStore(collection).apply("orphan", lambda _s: Change(state={}, events=[orphan]))
    marked = OutboxEntry.of(_event("marked"), topic)
    await store.apply("marked", lambda _s: Change(state={}, events=[marked]))
    await broker.start()
    try:
        assert await relay.publish_marked() == 1
        assert await collection.count_documents({"_outbox_pending": True}) == 1  # the orphan waits
        assert await relay.publish_pending() == 1  # the periodic full scan recovers it
    finally:
        await broker.stop()
    assert await collection.count_documents({"_outbox_pending": True}) == 0
