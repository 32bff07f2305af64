"""One decision is one hand-off, whatever event carries it: the same `decision.made` published again under
new event ids (as a foreign client copying it would) queues and sends nothing new.

Notify runs in this process on the real broker and store, delivering to a real SMTP server and webhook
receiver; the copies are waited for by the consumer group's committed offset, which notify commits only after
queuing what a decision leads to.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from mash_schemas.decision import DecisionMade
from mash_schemas.topics import DECISION_MADE

from demo.postbox import Postbox
from tests.integration.notify.conftest import RunNotify
from tests.integration.notify.notify_support import OPERATIONS, decision_made, new_referral_id
from tests.support.topics import produce_raw
from tests.support.waiting import eventually


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


async def test_a_decision_published_again_under_new_event_ids_sends_nothing_new(
    notify_env: dict[str, str], run_notify: RunNotify, postbox: Postbox,
) -> None:
    referral_id = new_referral_id()
    first = decision_made(referral_id)
    copies = [DecisionMade.model_validate({**first.model_dump(), "event_id": uuid.uuid4()}) for _ in range(3)]
    async with run_notify(notify_env) as (settings, http):
        topic, group = settings.topic(DECISION_MADE), settings.group("notify.decisions")

        async def deliveries() -> list[dict[str, Any]]:
            response = await http.get("/deliveries", params={"referral_id": referral_id}, headers=OPERATIONS)
            response.raise_for_status()
            found: list[dict[str, Any]] = response.json()
            return found

        async def all_sent() -> list[dict[str, Any]] | None:
            found = await deliveries()
            return found if found and all(d["status"] == "sent" for d in found) else None

        async def consumed(n: int) -> bool:
            return await _committed(settings.kafka_bootstrap, group, topic) >= n

        await produce_raw(settings.kafka_bootstrap, topic, first.model_dump_json().encode(), key=referral_id.encode())
        sent = await eventually(all_sent, timeout=30, what="the decision's messages sent")
        await eventually(lambda: consumed(1), timeout=30, what="the decision consumed")
        mail, hooks = len(postbox.mail), len(postbox.hooks)

        for copy in copies:
            await produce_raw(settings.kafka_bootstrap, topic, copy.model_dump_json().encode(),
                              key=referral_id.encode())
        await eventually(lambda: consumed(1 + len(copies)), timeout=30, what="every copy consumed")
        # The handler queues before its offset is committed: a copy that queued anything shows here.
        after = await deliveries()

    assert sorted(d["notification_id"] for d in after) == sorted(d["notification_id"] for d in sent)
    assert all(d["status"] == "sent" and (d["attempts"] == 1 or d["channel"] == "record") for d in after)
    assert (len(postbox.mail), len(postbox.hooks)) == (mail, hooks)
