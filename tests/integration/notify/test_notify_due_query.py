"""The due query never hands a sender a delivery that is not due, even while other senders claim deliveries.

Found by the replicas test (tests/integration/test_replicas.py): one hand-off webhook was sent by both copies of
notify. mongo-java-server can return, from its indexes, a document that a concurrent write has just changed so that
it no longer matches the query; a delivery another sender had claimed a moment before came back "due" at its new
version, and a claim on that version succeeded. Measured with plain PyMongo: 65 of 868 documents returned under
concurrent claims no longer matched. Kept as a regression case: claims and sweeps race on the real server, with a
fixed seed for the order in which the deliveries are claimed.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from mash_notify.domain.delivery import Delivery
from mash_notify.domain.messages import messages_for
from mash_notify.domain.recipients import load_recipients
from mash_notify.store import DELIVERIES, Found, NotifyStore
from mash_runtime.store import AggregateStore
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from tests.integration.notify.notify_support import decision_made
from tests.support.infrastructure import Infrastructure

ROUNDS = 60


@pytest.fixture
async def database(infrastructure: Infrastructure, namespace: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    try:
        yield client[f"{namespace}_notify_due"]
    finally:
        await client.drop_database(f"{namespace}_notify_due")
        await client.close()


async def test_a_delivery_claimed_meanwhile_is_never_returned_as_due(database: AsyncDatabase[dict[str, Any]]) -> None:
    claimer = NotifyStore(AggregateStore(database[DELIVERIES]))
    sweeper = NotifyStore(AggregateStore(database[DELIVERIES]))
    await claimer.ensure_indexes()
    await claimer.deliveries.ensure_indexes()
    draw = random.Random(21)
    recipients = load_recipients()
    returned = 0
    for _ in range(ROUNDS):
        now = datetime.now(UTC)
        for message in messages_for(decision_made(f"MASH-{uuid.uuid4().hex[:12].upper()}"), recipients):
            assert await claimer.queue(Delivery.queued(message, now))
        found = await claimer.due(now, limit=500)
        draw.shuffle(found)
        _, *sweeps = await asyncio.gather(_claim_all(claimer, found, now),
                                          *(_sweep(sweeper, now) for _ in range(3)))
        for delivery in (d for swept in sweeps for d in swept):
            returned += 1
            assert delivery.is_due(now), f"{delivery.notification_id} returned as due while {delivery.status}"
    assert returned > 0, "the sweeps raced the claims and found some deliveries still queued"


async def _claim_all(store: NotifyStore, found: list[Found], now: datetime) -> None:
    """One sender claims every delivery it found, one after another, for a lease that outlasts the test."""
    for each in found:
        each.delivery.take_claim("sender-a", uuid.uuid4().hex, now.replace(year=now.year + 1))
        await store.save_claim(each)


async def _sweep(store: NotifyStore, now: datetime) -> list[Delivery]:
    """Another sender's look for due deliveries."""
    return [each.delivery for each in await store.due(now, limit=500)]
