"""Consuming in batches changes nothing but the number of store round trips (issue 21, items 2 and 5).

The same records are consumed twice on in-memory parts, once one by one (`Consumers.one`, each record redelivered
until it returns, as the broker does after a failure) and once as one batch (`Consumers.batch`, the whole batch
redelivered until it returns). The records hold a duplicate, a poison record, a version conflict (another writer
changes an aggregate between the handler's read and its write), a handler that fails once, and records of other
referrals, on two partitions. Both ways must leave the same stored state, publish the same events, set aside the
same dead letters and apply each referral's events in offset order; the batch must have read and written its
aggregates together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka.annotations import KafkaMessage
from mash_runtime.consuming import Consumers, MessageOrigin, consumers
from mash_runtime.in_memory import no_topics, running_in_memory
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.outbox import OutboxEntry
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_runtime.store import VERSION, AggregateStore, Change
from mash_schemas.deadletter import DeadLetter
from mash_schemas.envelope import derived_event_id
from mash_schemas.referral import ReferralReceived

from tests.support.insight_events import referral_event
from tests.support.store_calls import count_calls

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 2, 9, tzinfo=UTC)
TOPIC = "unitbatch.mash.referral.received"


def _event(referral_id: str, n: int) -> ReferralReceived:
    return referral_event(referral_id, START, person_refs=(f"LA-{n}",))


def _record(partition: int, offset: int, key: str, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, key.encode(), value, None, len(key), len(value), [])


A1, A2, B1, C1, D1 = _event("MASH-A", 1), _event("MASH-A", 2), _event("MASH-B", 3), _event("MASH-C", 4), \
    _event("MASH-D", 5)
RECORDS = [
    _record(0, 10, "MASH-A", A1.model_dump_json().encode()),
    _record(0, 11, "MASH-A", A1.model_dump_json().encode()),  # the same event again
    _record(0, 12, "MASH-A", b"\xff not json"),  # poison, on the referral's own key
    _record(0, 13, "MASH-B", B1.model_dump_json().encode()),  # another writer changes B under the handler
    _record(0, 14, "MASH-A", A2.model_dump_json().encode()),  # after the poison: still applied, in order
    _record(1, 7, "MASH-C", C1.model_dump_json().encode()),  # another partition, another referral
    _record(1, 8, "MASH-D", D1.model_dump_json().encode()),  # its handler fails once
]


class _Delivered(SimpleNamespace):
    """One record as faststream's test broker hands it: no consumer to commit to, acknowledged on the message."""

    def __init__(self, record: ConsumerRecord[bytes, bytes]) -> None:
        super().__init__(raw_message=record, consumer=None, acked=0, nacked=0)

    async def ack(self) -> None:
        self.acked += 1

    async def nack(self) -> None:
        self.nacked += 1


@dataclass
class Run:
    """What one way of consuming did."""

    stored: dict[str, dict[str, Any]]
    published: list[str]
    dead: list[tuple[int, int, str, str]]
    applied: list[tuple[str, str]]
    calls: Counter[str] = field(default_factory=Counter)


async def _consume(batched: bool) -> Run:
    settings = HubSettings(environment="test", service_name="probe", topic_namespace="unitbatch", log_level="WARNING")
    database = MemoryDatabase("probe")
    runtime = ServiceRuntime(settings, database=as_database(database), topic_admin=no_topics)
    files: AggregateStore = runtime.store("files")
    # Published by the relay's full scan at the end only, so that no clear races the records' writes here.
    files.on_events = None
    calls: Counter[str] = Counter()
    applied: list[tuple[str, str]] = []
    published: list[str] = []
    dead: list[tuple[int, int, str, str]] = []
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
                await database["files"].update_one({"_id": "MASH-B"}, {"$inc": {VERSION: 1, "others": 1}})
            seen = [*(state or {}).get("seen", []), str(event.event_id)]
            echo = ReferralReceived.build(event.payload, correlation_id=referral, producer="probe",
                                          event_id=derived_event_id(event.event_id, "echo"), occurred_at=START)
            return Change({**(state or {}), "seen": seen}, [OutboxEntry.of(echo, settings.topic("probe.echo"))])

        if await files.apply(referral, decide, event_id=str(event.event_id)):
            applied.append((referral, str(event.event_id)))

    @runtime.broker.subscriber(settings.topic("probe.echo"))
    async def echo(body: dict[str, Any]) -> None:
        published.append(body["event_id"])

    @runtime.broker.subscriber(settings.topic(DeadLetter.TOPIC))
    async def set_aside(body: dict[str, Any]) -> None:
        letter = body["payload"]
        dead.append((letter["origin_partition"], letter["origin_offset"], letter["error_type"], letter["reason"]))

    async def no_pause(attempt: int) -> None:
        return None

    consuming: Consumers = consumers(settings, event_model=ReferralReceived, group_id="probe", handler=on_referral,
                                     dead_letters=runtime.dead_letters, pause=no_pause)
    async with running_in_memory(runtime):
        await database["files"].insert_one({"_id": "MASH-B", VERSION: 1, "seen": [], "_inbox": [], "_outbox": [],
                                            "_outbox_pending": False})
        count_calls(database["files"], calls)
        deliveries = 0
        if batched:
            message = cast("KafkaMessage", SimpleNamespace(raw_message=tuple(RECORDS), consumer=None))
            while True:  # redelivered as a whole until it returns, as faststream's nack of a batch does
                deliveries += 1
                try:
                    await consuming.batch(message)
                    break
                except Exception:
                    assert deliveries < 5
        else:
            for record in RECORDS:
                delivered = _Delivered(record)
                one = cast("KafkaMessage", delivered)
                tries = 0
                while True:
                    deliveries += 1
                    tries += 1
                    try:
                        await consuming.one(one)
                        break
                    except Exception:
                        assert deliveries < 20
                # Sought back after each failed attempt; acknowledged once, after its effects were stored.
                assert (delivered.acked, delivered.nacked) == (1, tries - 1)
        await runtime.relay.publish_pending()
    stored = {key: {k: v for k, v in doc.items() if k != VERSION} for key, doc in database["files"].documents.items()}
    return Run(stored, published, dead, applied, calls)


async def test_a_batch_does_exactly_what_one_by_one_did() -> None:
    one_by_one = await _consume(batched=False)
    batch = await _consume(batched=True)

    assert batch.stored == one_by_one.stored
    assert sorted(batch.published) == sorted(one_by_one.published)
    assert batch.dead == one_by_one.dead
    assert sorted(batch.applied) == sorted(one_by_one.applied)
    # Each referral's events in offset order; the duplicate applied once; the poison alone set aside.
    for run in (one_by_one, batch):
        assert [e for r, e in run.applied if r == "MASH-A"] == [str(A1.event_id), str(A2.event_id)]
        assert run.stored["MASH-A"]["seen"] == [str(A1.event_id), str(A2.event_id)]
        assert run.stored["MASH-B"]["others"] == 1
        assert run.stored["MASH-B"]["seen"] == [str(B1.event_id)]
        assert run.stored["MASH-D"]["seen"] == [str(D1.event_id)]
        assert [(p, o, kind) for p, o, kind, _ in run.dead] == [(0, 12, "invalid_event")]
        assert len(run.published) == len(set(run.published)) == 5
        assert all(not doc["_outbox"] for doc in run.stored.values())


async def test_a_batch_reads_and_writes_its_aggregates_together() -> None:
    one_by_one = await _consume(batched=False)
    batch = await _consume(batched=True)
    # One by one: a read per record and per retry. As a batch: B's lost race alone is read again on its own.
    assert one_by_one.calls["find_one"] >= 6
    assert batch.calls["find_one"] == 1
    assert batch.calls["bulk_write"] >= 1
    assert (batch.calls["insert_one"], batch.calls["replace_one"]) == (0, 1)
