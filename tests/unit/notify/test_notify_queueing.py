"""A decision's messages are queued together: one bulk write of their inserts, no read before each; a decision
queued again (a redelivery) adds nothing and is recognised message by message, as before."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from mash_notify.channels import Channels
from mash_notify.deliveries import Deliveries
from mash_notify.domain.messages import messages_for
from mash_notify.settings import NotifySettings
from mash_notify.store import NotifyStore
from mash_runtime.audit import AuditLog
from mash_runtime.memory_store import MemoryCollection, as_collection, memory_store

from tests.support.store_calls import count_calls
from tests.unit.notify.notify_builders import DECIDED_AT, RECIPIENTS, decision, decision_made

pytestmark = pytest.mark.unit


class _NoChannel:
    async def send(self, **_: Any) -> None:
        raise AssertionError("queueing sends nothing")


def _deliveries(collection: MemoryCollection) -> Deliveries:
    channels = Channels(email=_NoChannel(), webhook=_NoChannel())
    audit = AuditLog(as_collection(MemoryCollection("audit")), "notify")
    return Deliveries(NotifySettings(environment="test"), NotifyStore(memory_store(collection)), RECIPIENTS, audit,
                      channels, lambda: DECIDED_AT)


async def test_a_decisions_messages_go_in_one_bulk_write_and_a_repeat_is_recognised() -> None:
    collection = MemoryCollection("deliveries")
    calls: Counter[str] = Counter()
    count_calls(collection, calls)
    deliveries = _deliveries(collection)
    event = decision_made(decision())
    expected = {message.notification_id for message in messages_for(event, RECIPIENTS)}
    assert len(expected) > 2, "the example decision leads to several messages"

    assert await deliveries.queue_decision(event) == len(expected)
    assert set(collection.documents) == expected
    assert calls == Counter({"bulk_write": 1}), "one write for all of them, and no read"

    stored = {key: dict(doc) for key, doc in collection.documents.items()}
    assert await deliveries.queue_decision(event) == 0
    assert {key: dict(doc) for key, doc in collection.documents.items()} == stored, "the repeat changed nothing"
