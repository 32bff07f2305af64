"""Intake in-process on the real broker and store: its settings, a running app with an HTTP client, and
readers of what it wrote (its database) and published (its topics)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from mash_intake.app import create_app
from mash_intake.settings import IntakeSettings
from pymongo import AsyncMongoClient

from tests.support.infrastructure import Infrastructure

REPO = Path(__file__).resolve().parents[3]
DEMO = REPO / "demo"


@pytest.fixture
def intake_settings(infrastructure: Infrastructure, namespace: str) -> IntakeSettings:
    """Intake's settings for this test: real servers, the test's own namespace and database."""
    return IntakeSettings(
        environment="test",
        kafka_bootstrap=infrastructure.kafka_bootstrap,
        mongo_url=infrastructure.mongo_url,
        topic_namespace=namespace,
        mongo_database=f"{namespace}_intake",
        relay_poll_seconds=0.2,
    )


@dataclass
class RunningIntake:
    """An intake app whose lifespan (consumers, relay) is running, with a client on its routes."""

    settings: IntakeSettings
    http: httpx.AsyncClient
    transport: httpx.AsyncBaseTransport  # to the app, for another client (the workspace's) to reach it


@contextlib.asynccontextmanager
async def running_intake(settings: IntakeSettings) -> AsyncIterator[RunningIntake]:
    """Run intake in this process, as `python -m mash_intake` would, and talk to it over ASGI."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test", timeout=15.0) as http:
            yield RunningIntake(settings=settings, http=http, transport=transport)


@pytest.fixture
async def mongo(infrastructure: Infrastructure) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    """A client on the real store, to read what intake wrote."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


async def messages_on(bootstrap: str, topic: str) -> int:
    """How many messages `topic` holds, summed over its partitions (end offsets: no reader can lag)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap)  # no group: reads, commits nothing
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        assert partitions, f"topic {topic} does not exist"
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()
