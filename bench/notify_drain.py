"""How fast notify drains a backlog: messages sent per second once a pile of due deliveries waits.

`python -m bench.notify_drain --decisions 40` on the real stack (MASH_KAFKA_BOOTSTRAP, MASH_MONGO_URL):
1. notify runs with its delivery sweep held off (once an hour) while N decisions are consumed, so every
   message they lead to is queued and none sent;
2. notify is stopped and started again with a 0.2 s sweep, and the time from its start until every
   message is recorded as sent is taken, at a real SMTP server and webhook receiver (demo/postbox.py).
Prints the figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from aiokafka import AIOKafkaProducer
from mash_notify.domain.messages import messages_for
from mash_notify.domain.recipients import load_recipients
from mash_runtime.settings import HubSettings
from mash_schemas import Address, BragRating, Decision, DecisionMade, Outcome, Referrer, Subject
from mash_schemas.topics import DECISION_MADE
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig
from demo.kafka_access import KafkaAccess, authenticate_raw_clients
from demo.postbox import Postbox
from demo.waiting import eventually


def decision_event(referral_id: str) -> DecisionMade:
    """A statutory assessment for the assessment team, told to the referrer and three agencies."""
    now = datetime.now(UTC)
    decision = Decision(
        decision_id=f"DEC-{referral_id}", referral_id=referral_id, decided_by="Mo Patel (MASH manager)",
        decided_at=now, referral_received_at=now - timedelta(hours=2), rating=BragRating.AMBER,
        outcome=Outcome.STATUTORY_ASSESSMENT, receiving_service="assessment-team",
        rationale="The agencies' answers together show unmet needs; the threshold for an assessment is met.",
        referrer=Referrer(role="designated safeguarding lead", agency="Hill Primary School", name="Priya Shah",
                          email="dsl@hill-primary.example.org"),
        subjects=[Subject(subject_id="S-1", given_name="Lily", family_name="Evans", date_of_birth=date(2018, 6, 1),
                          address=Address(lines=["12 Orchard Way"], town="Exeter", postcode="EX1 1AA"))],
        handoff_items=[], agencies_consulted=["police", "health", "education"],
    )
    return DecisionMade.build(decision, correlation_id=referral_id, producer="decision", event_id=uuid.uuid4())


async def _count(mongo_url: str, database: str, query: dict[str, Any]) -> int:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        return await client[database]["deliveries"].count_documents(query)
    finally:
        await client.close()


async def drain(bootstrap: str, mongo_url: str, decisions: int, workdir: Path) -> dict[str, float]:
    """Queue the messages of `decisions` decisions, then time notify sending them all."""
    namespace = f"drain{uuid.uuid4().hex[:8]}"
    topic = HubSettings(topic_namespace=namespace).topic(DECISION_MADE)
    async with Postbox().running() as postbox:
        recipients = postbox.write_recipients(workdir / "recipients.yaml")
        events = [decision_event(f"R-{namespace}-{n}") for n in range(decisions)]
        expected = sum(len(messages_for(e, load_recipients(recipients))) for e in events)
        notify_env = postbox.notify_env(recipients)
        hub = Hub(HubConfig(kafka_bootstrap=bootstrap, mongo_url=mongo_url, namespace=namespace, workdir=workdir,
                            service_env={"notify": {**notify_env, "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "3600"}}))
        database = hub.database("notify")
        try:
            await hub.start_service("notify")
            producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
            await producer.start()
            try:
                for event in events:
                    value, key = event.model_dump_json().encode(), event.correlation_id.encode()
                    await producer.send_and_wait(topic, value, key=key)
            finally:
                await producer.stop()

            async def all_queued() -> bool:
                return await _count(mongo_url, database, {}) >= expected

            await eventually(all_queued, timeout=300, interval=0.5, what=f"{expected} deliveries queued")
            hub.services["notify"].stop()
            queued = await _count(mongo_url, database, {"status": "queued"})
            started = time.monotonic()
            await hub.start_service("notify", {"MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.2"}, wait=False)

            async def all_sent() -> bool:
                return await _count(mongo_url, database, {"status": "sent"}) >= expected

            await hub.services["notify"].wait_ready()
            ready = time.monotonic()
            await eventually(all_sent, timeout=600, interval=0.2, what=f"{expected} deliveries sent")
            done = time.monotonic()
        finally:
            hub.stop()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        try:
            await client.drop_database(database)
        finally:
            await client.close()
        return {"decisions": decisions, "messages": expected, "queued_before": queued,
                "emails_at_sink": len(postbox.mail), "webhooks_at_sink": len(postbox.hooks),
                "seconds_from_start": done - started, "seconds_from_ready": done - ready,
                "messages_per_second": expected / (done - started)}


def main() -> None:
    """Run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=40)
    args = parser.parse_args()
    access = KafkaAccess.from_environment()
    if access is not None:  # the decisions are put on the topic as the operator
        authenticate_raw_clients(access)
    settings = HubSettings()
    with TemporaryDirectory(prefix="notify-drain-") as tmp:
        figures = asyncio.run(drain(settings.kafka_bootstrap, settings.mongo_url, args.decisions, Path(tmp)))
    for name, value in figures.items():
        print(f"{name:>20}: {value:.2f}" if isinstance(value, float) else f"{name:>20}: {value}")


if __name__ == "__main__":
    main()
