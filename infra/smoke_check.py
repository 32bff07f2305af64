"""Smoke check for the stack started by infra/stack.sh (needs aiokafka and pymongo).

    python infra/smoke_check.py            # uses MASH_KAFKA_BOOTSTRAP / MASH_MONGO_URL or defaults

Kafka: cluster metadata, explicit topic creation, idempotent producer (acks=all), consumer group
read-back, and a transactional produce. MongoDB-protocol server (mongo-java-server locally): ping,
unique index -> DuplicateKeyError, find_one_and_update (upsert, $inc, ReturnDocument.AFTER). Exits
non-zero on the first failure.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

BOOTSTRAP = os.environ.get("MASH_KAFKA_BOOTSTRAP", "127.0.0.1:9092")


def _login() -> dict[str, str]:
    """On the secured stack, log in as its admin (MASH_KAFKA_CREDENTIALS, else <cache>/run/kafka-credentials.env)."""
    cache = os.environ.get("MASH_CACHE_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".cache")
    path = os.environ.get("MASH_KAFKA_CREDENTIALS") or os.path.join(cache, "run", "kafka-credentials.env")
    if not os.path.isfile(path):
        return {}
    for line in open(path, encoding="utf-8"):  # noqa: SIM115 - read once at start
        if line.startswith("MASH_KAFKA_PASSWORD_ADMIN="):
            return {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
                    "sasl_plain_username": "admin", "sasl_plain_password": line.split("=", 1)[1].strip()}
    return {}


LOGIN = _login()
MONGO_URL = os.environ.get("MASH_MONGO_URL", "mongodb://127.0.0.1:27017")


def expect(ok: bool, what: object) -> None:
    """Fail loudly (also under python -O, unlike assert)."""
    if not ok:
        raise SystemExit(f"smoke check FAILED: {what}")


async def check_kafka() -> None:
    topic = f"smoke-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP, **LOGIN)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        print(f"kafka: cluster_id={cluster['cluster_id']} brokers={[b['node_id'] for b in cluster['brokers']]}")
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        print(f"kafka: created topic {topic}")

        producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, **LOGIN)
        await producer.start()
        try:
            for i in range(5):
                await producer.send_and_wait(topic, f"msg-{i}".encode(), key=b"k")
        finally:
            await producer.stop()
        print("kafka: produced 5 records (acks=all, enable_idempotence=True)")

        tx = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, transactional_id=f"smoke-tx-{topic}", **LOGIN)
        await tx.start()
        try:
            async with tx.transaction():
                await tx.send_and_wait(topic, b"msg-tx", key=b"k")
        finally:
            await tx.stop()
        print("kafka: produced 1 record in a transaction")

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=BOOTSTRAP,
            **LOGIN,
            group_id=f"smoke-group-{topic}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        try:
            got: list[bytes] = []
            async with asyncio.timeout(30):
                while len(got) < 6:
                    batch = await consumer.getmany(timeout_ms=1000)
                    for records in batch.values():
                        got.extend(r.value for r in records if r.value is not None)
            await consumer.commit()
        finally:
            await consumer.stop()
        expect(got == [f"msg-{i}".encode() for i in range(5)] + [b"msg-tx"], f"consumed {got}")
        print(f"kafka: consumed {len(got)} records in order via consumer group, offsets committed")

        await admin.delete_topics([topic])
    finally:
        await admin.close()


def check_mongo() -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000)
    try:
        print(f"mongo: ping={client.admin.command('ping')} version={client.server_info()['version']}")
        db = client[f"smoke_{uuid.uuid4().hex[:8]}"]
        coll = db["cases"]
        coll.create_index([("ref", ASCENDING)], unique=True)
        coll.insert_one({"ref": "A-1", "n": 0})
        try:
            coll.insert_one({"ref": "A-1", "n": 1})
        except DuplicateKeyError as exc:
            print(f"mongo: duplicate insert rejected (code {exc.code})")
        else:
            expect(False, "unique index did not reject a duplicate")

        doc = coll.find_one_and_update(
            {"ref": "A-1"}, {"$inc": {"n": 1}, "$set": {"state": "open"}}, return_document=ReturnDocument.AFTER
        )
        expect(doc is not None and doc["n"] == 1 and doc["state"] == "open", f"after $inc/$set: {doc}")
        doc = coll.find_one_and_update(
            {"ref": "B-2"},
            {"$setOnInsert": {"n": 10}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        expect(doc is not None and doc["n"] == 10, f"after upsert: {doc}")
        print("mongo: find_one_and_update ($inc/$set, upsert+$setOnInsert, ReturnDocument.AFTER) ok")
        client.drop_database(db.name)
    finally:
        client.close()


def main() -> int:
    check_mongo()
    asyncio.run(check_kafka())
    print("smoke check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
