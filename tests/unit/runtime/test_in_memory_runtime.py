"""The parts a service's bootstrap can be handed — an in-memory database, a TestKafkaBroker, a fixed clock —
behave as the servers do for what the hub relies on: a consumed event's effect is stored once however often
it is delivered, what it queues leaves through the real outbox relay, and the clock is the one handed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mash_runtime.clock import FixedClock
from mash_runtime.consuming import MessageOrigin
from mash_runtime.in_memory import no_topics, running_in_memory
from mash_runtime.memory_store import MemoryDatabase, as_database
from mash_runtime.outbox import OutboxEntry
from mash_runtime.service import ServiceRuntime
from mash_runtime.settings import HubSettings
from mash_runtime.store import Change
from mash_schemas.deadletter import DeadLetter
from mash_schemas.envelope import derived_event_id
from mash_schemas.referral import ReferralReceived
from pymongo import ReplaceOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from tests.support.insight_events import referral_event

pytestmark = pytest.mark.unit

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


async def test_a_runtime_on_in_memory_parts_applies_an_event_once_and_relays_what_it_queued() -> None:
    settings = HubSettings(environment="test", service_name="probe", topic_namespace="unitprobe", log_level="WARNING")
    database = MemoryDatabase("probe")
    clock = FixedClock(START)
    runtime = ServiceRuntime(settings, database=as_database(database), clock=clock, topic_admin=no_topics)
    files = runtime.store("files")
    relayed: list[dict[str, Any]] = []

    async def on_referral(event: ReferralReceived, origin: MessageOrigin) -> None:
        def decide(state: dict[str, Any] | None) -> Change:
            seen = (state or {}).get("seen", 0)
            echo = ReferralReceived.build(event.payload, correlation_id=event.correlation_id, producer="probe",
                                          event_id=derived_event_id(event.event_id, "echo"), occurred_at=clock())
            return Change({"seen": seen + 1, "at": clock()}, [OutboxEntry.of(echo, settings.topic("probe.echo"))])

        await files.apply(event.correlation_id, decide, event_id=str(event.event_id))

    runtime.subscribe(ReferralReceived.TOPIC, ReferralReceived, "probe", on_referral)

    @runtime.broker.subscriber(settings.topic("probe.echo"))
    async def echo(body: dict[str, Any]) -> None:
        relayed.append(body)

    event = referral_event("MASH-7", START, person_refs=("LA-7",))
    async with running_in_memory(runtime) as broker:
        for _ in range(3):
            await broker.publish(event.model_dump_json(), settings.topic(ReferralReceived.TOPIC), key=b"MASH-7")
        await runtime.relay.publish_pending()

    (stored,) = database["files"].documents.values()
    assert stored["seen"] == 1
    assert stored["at"] == START
    assert [body["event_id"] for body in relayed] == [str(derived_event_id(event.event_id, "echo"))]


async def test_a_poison_message_on_an_in_memory_runtime_goes_to_the_dead_letter_topic() -> None:
    settings = HubSettings(environment="test", service_name="probe", topic_namespace="unitpoison", log_level="WARNING")
    runtime = ServiceRuntime(settings, database=as_database(MemoryDatabase()), topic_admin=no_topics)
    applied: list[str] = []
    dead: list[dict[str, Any]] = []

    async def on_referral(event: ReferralReceived, origin: MessageOrigin) -> None:
        applied.append(event.correlation_id)

    runtime.subscribe(ReferralReceived.TOPIC, ReferralReceived, "probe", on_referral)

    @runtime.broker.subscriber(settings.topic(DeadLetter.TOPIC))
    async def set_aside(body: dict[str, Any]) -> None:
        dead.append(body)

    good = referral_event("MASH-8", START, person_refs=("LA-8",))
    async with running_in_memory(runtime) as broker:
        await broker.publish(b"\xff not json", settings.topic(ReferralReceived.TOPIC), key=b"MASH-8")
        await broker.publish(good.model_dump_json(), settings.topic(ReferralReceived.TOPIC), key=b"MASH-8")
    assert applied == ["MASH-8"]
    assert [letter["payload"]["error_type"] for letter in dead] == ["invalid_event"]


def test_the_fixed_clock_moves_only_when_told() -> None:
    clock = FixedClock(START)
    assert clock() == START
    assert clock.advance(hours=4) == START + timedelta(hours=4)
    assert clock.advance(timedelta(minutes=30), minutes=30) == START + timedelta(hours=5)
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 3, 2, 9))


async def test_the_memory_database_answers_the_queries_the_services_make() -> None:
    database = MemoryDatabase()
    deliveries = database["deliveries"]
    for number, (status, due) in enumerate([("queued", 1), ("sending", 2), ("queued", 5), ("sent", 0)]):
        await deliveries.insert_one({"_id": f"n{number}", "status": status, "next_attempt_at": START + timedelta(hours=due),
                                     "claim_expires_at": START, "refs": [f"LA-{number}", "LA-x"],
                                     "requests": {"police": {"state": "asked"}} if number == 1 else {}})
    due_query = {"$or": [{"status": "queued", "next_attempt_at": {"$lte": START + timedelta(hours=2)}},
                         {"status": "sending", "claim_expires_at": {"$lte": START}}]}
    due = await deliveries.find(due_query).sort("next_attempt_at", -1).limit(5).to_list()
    assert [doc["_id"] for doc in due] == ["n1", "n0"]
    assert [d["_id"] async for d in deliveries.find({"refs": {"$in": ["LA-2", "LA-9"]}}, {"_id": 1})] == ["n2"]
    assert [d["_id"] async for d in deliveries.find({"requests.police": {"$exists": True}})] == ["n1"]
    assert await deliveries.count_documents({"status": {"$ne": "sent"}}) == 3
    updated = await deliveries.update_many({"status": "queued"}, {"$set": {"status": "held"}, "$inc": {"_version": 1}})
    assert updated.modified_count == 2
    assert (await deliveries.find_one({"_id": "n2"}) or {})["_version"] == 1
    await deliveries.bulk_write([ReplaceOne({"_id": "p1"}, {"name": "A"}, upsert=True),
                                 UpdateOne({"_id": "n3"}, {"$unset": {"refs": ""}})])
    assert await deliveries.find_one({"_id": "p1"}) == {"_id": "p1", "name": "A"}
    assert "refs" not in (await deliveries.find_one({"_id": "n3"}) or {})
    await deliveries.create_index("name", unique=True)
    with pytest.raises(DuplicateKeyError):
        await deliveries.insert_one({"_id": "p2", "name": "A"})
    assert (await deliveries.delete_many({"status": "held"})).deleted_count == 2
    with pytest.raises(NotImplementedError, match=r"\$regex"):
        await deliveries.count_documents({"name": {"$regex": "A"}})
    assert await database.command("ping") == {"ok": 1.0}
