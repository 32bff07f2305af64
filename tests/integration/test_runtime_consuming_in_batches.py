"""Consuming in batches on the real broker and store does exactly what one by one did (issue 21, item 5).

The same records go on two fresh topics (each run its own namespace and database): a referral's event, the
same event again, a poison record on that referral's key, an event of another referral whose aggregate another
writer changes between the handler's read and its write (a version conflict on mongo-java-server's bulk write),
the first referral's next event, and on a second partition two more referrals, one of whose handlers fails
once. One service runtime consumes them one by one (`batch=1`), the other in batches (`batch=50`, the records
all there before it starts, so they come together). Both must store the same aggregates, publish the same
events through the relay, set aside the same dead letter and commit every offset.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from mash_runtime.consuming import MessageOrigin
from mash_runtime.outbox import OutboxEntry
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_runtime.store import VERSION, Change
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.deadletter import DeadLetter
from mash_schemas.envelope import derived_event_id
from mash_schemas.referral import ReferralReceived
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure
from tests.support.insight_events import referral_event
from tests.support.topics import TopicRecorder
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
GROUP = "probe.referrals"


def _event(referral_id: str, n: int) -> ReferralReceived:
    return referral_event(referral_id, START, person_refs=(f"LA-{n}",))


A1, A2, B1, C1, D1 = (_event("MASH-A", 1), _event("MASH-A", 2), _event("MASH-B", 3), _event("MASH-C", 4),
                      _event("MASH-D", 5))
RECORDS: list[tuple[int, str, bytes]] = [
    (0, "MASH-A", A1.model_dump_json().encode()),
    (0, "MASH-A", A1.model_dump_json().encode()),
    (0, "MASH-A", b"\xff not json"),
    (0, "MASH-B", B1.model_dump_json().encode()),
    (0, "MASH-A", A2.model_dump_json().encode()),
    (1, "MASH-C", C1.model_dump_json().encode()),
    (1, "MASH-D", D1.model_dump_json().encode()),
]


async def _committed(settings: HubSettings) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.group(GROUP))
    finally:
        await admin.close()
    topic = settings.topic(ReferralReceived.TOPIC)
    return {tp.partition: meta.offset for tp, meta in offsets.items()
            if isinstance(tp, TopicPartition) and tp.topic == topic}


async def _consume(infrastructure: Infrastructure, namespace: str, batch: int) -> dict[str, Any]:
    settings = HubSettings(environment="test", service_name=f"probe-{batch}", topic_namespace=namespace,
                           kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url,
                           mongo_database=f"{namespace}_probe", relay_poll_seconds=0.2, log_level="WARNING")
    topic, echoes, dead_letters = (settings.topic(ReferralReceived.TOPIC), settings.topic("probe.echo"),
                                   settings.topic(DeadLetter.TOPIC))
    await ensure_topics(settings, {topic, echoes, dead_letters}, {topic: 2})
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for partition, key, value in RECORDS:
            await producer.send_and_wait(topic, value, key=key.encode(), partition=partition)
    finally:
        await producer.stop()

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    runtime = ServiceRuntime(settings, database=client[settings.mongo_database])
    files = runtime.store("files")
    applied: list[tuple[str, str]] = []
    interfered: set[str] = set()
    failed_once: set[str] = set()

    async def on_referral(event: ReferralReceived, origin: MessageOrigin) -> None:
        referral = event.correlation_id
        if referral == "MASH-D" and referral not in failed_once:
            failed_once.add(referral)
            raise ConnectionError("the store blinked")

        async def decide(state: dict[str, Any] | None) -> Change:
            if referral == "MASH-B" and referral not in interfered:
                interfered.add(referral)  # another writer, between this read and this write
                await files.collection.update_one({"_id": "MASH-B"}, {"$inc": {VERSION: 1, "others": 1}})
            seen = [*(state or {}).get("seen", []), str(event.event_id)]
            echo = ReferralReceived.build(event.payload, correlation_id=referral, producer="probe",
                                          event_id=derived_event_id(event.event_id, "echo"), occurred_at=START)
            return Change({**(state or {}), "seen": seen}, [OutboxEntry.of(echo, echoes)])

        if await files.apply(referral, decide, event_id=str(event.event_id)):
            applied.append((referral, str(event.event_id)))

    runtime.subscribe(ReferralReceived.TOPIC, ReferralReceived, GROUP, on_referral, batch=batch)
    await files.collection.insert_one({"_id": "MASH-B", VERSION: 1, "seen": [], "_inbox": [], "_outbox": [],
                                       "_outbox_pending": False})
    try:
        async with TopicRecorder(settings.kafka_bootstrap, [echoes, dead_letters]).running() as recorder, \
                runtime.running(periodic_jobs=False):
            await eventually(lambda: _async(len(recorder.on(echoes)) >= 5 and len(recorder.on(dead_letters)) >= 1),
                             timeout=120, what="five events relayed and one dead letter")
            await eventually(lambda: _async_eq(_committed(settings), {0: 5, 1: 2}), timeout=60, what="commits")
            await eventually(lambda: _no_pending(files.collection), timeout=60, what="outboxes cleared")
        stored = {doc["_id"]: {k: v for k, v in doc.items() if k != VERSION}
                  async for doc in files.collection.find({})}
        letters = [record.json()["payload"] for record in recorder.on(dead_letters)]
        return {
            "stored": stored,
            "published": sorted(record.json()["event_id"] for record in recorder.on(echoes)),
            "dead": [(x["origin_partition"], x["origin_offset"], x["error_type"], x["reason"]) for x in letters],
            "applied": applied,
        }
    finally:
        await client.drop_database(settings.mongo_database)
        await client.close()


async def _async(value: bool) -> bool:
    return value


async def _async_eq(probe: Any, want: Any) -> bool:
    return bool(await probe == want)


async def _no_pending(collection: Any) -> bool:
    return await collection.count_documents({"_outbox_pending": True}) == 0


async def test_a_batch_on_the_real_stack_does_exactly_what_one_by_one_did(
    infrastructure: Infrastructure, namespace: str,
) -> None:
    one_by_one = await _consume(infrastructure, f"{namespace}-one", batch=1)
    batched = await _consume(infrastructure, f"{namespace}-batch", batch=50)
    labels = {"service": "probe-50", "group": f"{namespace}-batch.{GROUP}"}
    records = REGISTRY.get_sample_value("mash_consumer_batch_records_sum", labels) or 0
    batches = REGISTRY.get_sample_value("mash_consumer_batch_records_count", labels) or 0

    assert batched["stored"] == one_by_one["stored"]
    assert batched["published"] == one_by_one["published"]
    assert batched["dead"] == one_by_one["dead"]
    assert sorted(batched["applied"]) == sorted(one_by_one["applied"])
    for run in (one_by_one, batched):
        assert [e for r, e in run["applied"] if r == "MASH-A"] == [str(A1.event_id), str(A2.event_id)]
        assert run["stored"]["MASH-B"]["others"] == 1
        assert [(p, o, kind) for p, o, kind, _ in run["dead"]] == [(0, 2, "invalid_event")]
        assert len(run["published"]) == len(set(run["published"])) == 5
    # The batch subscriber took several records at once (the records were all there before it started).
    assert records >= len(RECORDS) and batches < records
