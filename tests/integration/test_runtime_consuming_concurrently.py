"""Consumers on the real broker with several workers: partitions are applied concurrently, one key in order.

With `workers=3` on a three-partition topic, a handler held up on one partition (a slow store write, say)
no longer holds up the records of other referrals on the other partitions; records of one referral, on
one partition, are still applied one after another in the order they were produced; and every offset is
committed once its handler has returned. With one worker the held-up record blocks everything behind it,
which is what the first assertion would catch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from mash_runtime.broker import build_broker
from mash_runtime.consuming import DeadLetters, MessageOrigin, subscribe
from mash_runtime.settings import HubSettings
from mash_runtime.topics_admin import ensure_topics
from mash_schemas.enquiry import AgencyFindings, EnquiryAddendum, EnquiryAddendumRecorded
from mash_schemas.topics import DEAD_LETTER, ENQUIRY_ADDENDUM

from tests.support.infrastructure import Infrastructure
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration
GROUP = "concurrent-group-under-test"


def _event(referral_id: str, sequence: int) -> EnquiryAddendumRecorded:
    findings = AgencyFindings(agency="health", outcome="nothing_known", responded_at=datetime.now(UTC))
    payload = EnquiryAddendum(enquiry_id=f"E{sequence}", referral_id=referral_id, findings=findings)
    return EnquiryAddendumRecorded.build(payload, correlation_id=referral_id, producer="test")


class HeldUpConsumer:
    """Applies every record at once except those of `held`, which wait until `release` is set."""

    def __init__(self, settings: HubSettings, held: str, workers: int) -> None:
        self.held = held
        self.release = asyncio.Event()
        self.entered = asyncio.Event()  # set once a held-up record is being handled
        self.applied: list[tuple[str, str]] = []  # (referral, enquiry id) in the order applied
        self.broker = build_broker(settings)
        subscribe(self.broker, settings, topic=settings.topic(ENQUIRY_ADDENDUM), event_model=EnquiryAddendumRecorded,
                  group_id=settings.group(GROUP), handler=self.handle, dead_letters=DeadLetters(self.broker, settings),
                  workers=workers)

    async def handle(self, event: EnquiryAddendumRecorded, origin: MessageOrigin) -> None:
        if event.correlation_id == self.held:
            self.entered.set()
            await self.release.wait()
        self.applied.append((event.correlation_id, event.payload.enquiry_id))

    def of(self, referral: str) -> list[str]:
        return [enquiry for who, enquiry in self.applied if who == referral]

    async def has_applied(self, counts: dict[str, int]) -> bool:
        return all(len(self.of(referral)) == count for referral, count in counts.items())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[HeldUpConsumer]:
        await self.broker.start()
        try:
            yield self
        finally:
            self.release.set()
            await self.broker.stop()


async def _produce(settings: HubSettings, records: list[tuple[int, EnquiryAddendumRecorded]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for partition, event in records:
            await producer.send_and_wait(settings.topic(ENQUIRY_ADDENDUM), event.model_dump_json().encode(),
                                         key=event.correlation_id.encode(), partition=partition)
    finally:
        await producer.stop()


async def _committed(settings: HubSettings) -> dict[int, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.group(GROUP))
    finally:
        await admin.close()
    topic = settings.topic(ENQUIRY_ADDENDUM)
    return {tp.partition: meta.offset for tp, meta in offsets.items() if isinstance(tp, TopicPartition)
            and tp.topic == topic}


async def test_a_held_up_partition_does_not_hold_up_the_others_and_one_referral_keeps_its_order(
    infrastructure: Infrastructure, namespace: str,
) -> None:
    settings = HubSettings(kafka_bootstrap=infrastructure.kafka_bootstrap, topic_namespace=namespace,
                           service_name="consumer-test", consumer_max_attempts=3)
    await ensure_topics(settings, [settings.topic(ENQUIRY_ADDENDUM), settings.topic(DEAD_LETTER)],
                        {settings.topic(ENQUIRY_ADDENDUM): 3})
    held, steady, other = "MASH-HELD", "MASH-STEADY", "MASH-OTHER"
    await _produce(settings, [(0, _event(held, n)) for n in range(1, 4)])

    async with HeldUpConsumer(settings, held, workers=3).running() as consumer:
        # Only once the held-up record is in its handler do the other referrals' records arrive.
        await asyncio.wait_for(consumer.entered.wait(), timeout=60)
        await _produce(settings, [(1, _event(steady, n)) for n in range(1, 6)] +
                       [(2, _event(other, n)) for n in range(1, 6)])
        # The held-up referral's partition waits; the other two are applied meanwhile, each in its order.
        await eventually(lambda: consumer.has_applied({steady: 5, other: 5}), timeout=90, what="other partitions")
        assert consumer.of(held) == []
        assert consumer.of(steady) == [f"E{n}" for n in range(1, 6)]
        assert consumer.of(other) == [f"E{n}" for n in range(1, 6)]
        assert await eventually(lambda: _committed_at(settings, {1: 5, 2: 5}), timeout=60, what="commits")

        consumer.release.set()
        await eventually(lambda: consumer.has_applied({held: 3}), timeout=60, what="the held-up partition")
        assert consumer.of(held) == ["E1", "E2", "E3"]
        assert await eventually(lambda: _committed_at(settings, {0: 3, 1: 5, 2: 5}), timeout=60, what="commits")


async def _committed_at(settings: HubSettings, wanted: dict[int, int]) -> bool:
    committed = await _committed(settings)
    return all(committed.get(partition) == offset for partition, offset in wanted.items())
