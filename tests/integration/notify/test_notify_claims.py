"""Claim before send, on the real store and with notify as OS processes: one message goes out once.

- Two replicas sweeping one backlog (a slow mail server keeps every send in flight a while) send each
  message once: a due message is claimed by one conditional update, and only its claimant sends it.
- A claim holds for its lease; a claimant that died is replaced once the lease runs out, and a replica
  that restarts under the same name takes its own claims back at once.
- SIGKILL mid-send: the restarted replica sends the message it was sending again at once, under the same
  Message-ID, which is how the receiving system recognises the repeat; nothing else goes twice.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mash_notify.domain.delivery import Delivery
from mash_notify.domain.messages import messages_for
from mash_notify.domain.recipients import load_recipients
from mash_notify.store import Found, NotifyStore
from mash_runtime.settings import HubSettings
from mash_runtime.store import AggregateStore
from mash_schemas.topics import DECISION_MADE
from pymongo import AsyncMongoClient

from demo.hub import Hub, HubConfig, HubProcess
from demo.ports import free_port
from demo.postbox import Postbox
from tests.integration.notify.notify_support import decision_made, new_referral_id
from tests.support.infrastructure import Infrastructure
from tests.support.topics import produce_raw
from tests.support.waiting import eventually

DECISIONS = 4


async def _deliveries(mongo_url: str, database: str) -> list[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        return [doc async for doc in client[database]["deliveries"].find({})]
    finally:
        await client.close()


def _hub(infrastructure: Infrastructure, namespace: str, postbox: Postbox, tmp_path: Path) -> Hub:
    recipients = postbox.write_recipients(tmp_path / "recipients.yaml")
    return Hub(HubConfig(
        kafka_bootstrap=infrastructure.kafka_bootstrap, mongo_url=infrastructure.mongo_url, namespace=namespace,
        workdir=tmp_path,
        service_env={"notify": {**postbox.notify_env(recipients), "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.1",
                                "MASH_NOTIFY_REPLICA_ID": "notify-a"}},
    ))


async def _decide(infrastructure: Infrastructure, namespace: str, count: int, recipients: Path) -> int:
    """Publish `count` decisions; returns how many messages they lead to."""
    topic = HubSettings(topic_namespace=namespace).topic(DECISION_MADE)
    messages = 0
    for _ in range(count):
        referral_id = new_referral_id()
        event = decision_made(referral_id)
        messages += len(messages_for(event, load_recipients(recipients)))
        await produce_raw(infrastructure.kafka_bootstrap, topic, event.model_dump_json().encode(),
                          key=referral_id.encode())
    return messages


async def test_two_replicas_sweeping_one_backlog_send_each_message_once(
    infrastructure: Infrastructure, namespace: str, postbox: Postbox, notify_database: str, tmp_path: Path,
) -> None:
    postbox.smtp_delay = 0.3
    hub = _hub(infrastructure, namespace, postbox, tmp_path)
    assert hub.database("notify") == notify_database
    second_port = free_port()
    second = HubProcess("notify-b", ["-m", "mash_notify"], {
        **hub.service_process("notify").env, "MASH_NOTIFY_HTTP_PORT": str(second_port),
        "MASH_NOTIFY_REPLICA_ID": "notify-b", "MASH_NOTIFY_LOG_FILE": str(tmp_path / "logs" / "notify-b.log"),
    }, tmp_path / "logs" / "notify-b.out", port=second_port)
    try:
        await hub.start_service("notify")
        second.start()
        await second.wait_ready()
        expected = await _decide(infrastructure, namespace, DECISIONS, tmp_path / "recipients.yaml")

        async def all_sent() -> list[dict[str, Any]] | None:
            found = await _deliveries(infrastructure.mongo_url, notify_database)
            done = len(found) == expected and all(d["status"] == "sent" for d in found)
            return found if done else None

        sent = await eventually(all_sent, timeout=120, interval=0.2, what="every message sent by the two replicas")
    finally:
        second.stop()
        hub.stop()

    emails = [d for d in sent if d["channel"] == "email"]
    hooks = [d for d in sent if d["channel"] == "webhook"]
    assert Counter(m.message_id for m in postbox.mail) == Counter(f"<{d['_id']}@mash-hub>" for d in emails)
    assert Counter(h.idempotency_key for h in postbox.hooks) == Counter(d["_id"] for d in hooks)
    assert all(d["attempts"] == 1 for d in sent)


async def test_a_claim_holds_for_its_lease_and_a_restarted_replica_takes_its_own_back(
    infrastructure: Infrastructure, notify_database: str,
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url, tz_aware=True)
    store = NotifyStore(AggregateStore(client[notify_database]["deliveries"]))
    now = datetime.now(UTC)
    lease = timedelta(seconds=60)

    async def claim(found: Found, replica: str) -> bool:
        found.delivery.take_claim(replica, uuid.uuid4().hex, now + lease)
        return await store.save_claim(found)

    try:
        first, second = messages_for(decision_made(new_referral_id()), load_recipients())[:2]
        for message in (first, second):
            assert await store.queue(Delivery.queued(message, now))
        ids = sorted([first.notification_id, second.notification_id])
        found_by_a, found_by_b = await store.due(now, 10), await store.due(now, 10)
        assert sorted(f.delivery.notification_id for f in found_by_a) == ids
        assert [f.delivery.notification_id for f in found_by_a] == [f.delivery.notification_id for f in found_by_b]

        assert await claim(found_by_a[0], "replica-a")
        assert not await claim(found_by_b[0], "replica-b")  # the same message: only one claimant
        held, other = found_by_a[0].delivery.notification_id, found_by_a[1].delivery.notification_id
        assert [f.delivery.notification_id for f in await store.due(now, 10)] == [other]
        assert sorted(f.delivery.notification_id for f in await store.due(now + lease + timedelta(seconds=1), 10)) \
            == ids

        # replica-a dies holding the first message and comes back under its name: it is due again at once.
        assert await store.take_back_claims("replica-a", now) == 1
        assert await store.take_back_claims("replica-b", now) == 0
        retaken = next(f for f in await store.due(now, 10) if f.delivery.notification_id == held)
        assert await claim(retaken, "replica-b")
    finally:
        await client.close()


async def test_a_kill_mid_send_sends_that_message_again_at_once_under_the_same_message_id(
    infrastructure: Infrastructure, namespace: str, postbox: Postbox, notify_database: str, tmp_path: Path,
) -> None:
    postbox.smtp_delay = 1.0
    hub = _hub(infrastructure, namespace, postbox, tmp_path)
    try:
        await hub.start_service("notify")
        expected = await _decide(infrastructure, namespace, 1, tmp_path / "recipients.yaml")

        async def sending() -> bool:
            return postbox.smtp_in_flight > 0

        await eventually(sending, timeout=30, interval=0.02, what="an email in flight")
        in_flight_at_kill = postbox.smtp_in_flight
        hub.services["notify"].kill()
        postbox.smtp_delay = 0.0
        await hub.start_service("notify")

        async def all_sent() -> list[dict[str, Any]] | None:
            found = await _deliveries(infrastructure.mongo_url, notify_database)
            return found if len(found) == expected and all(d["status"] == "sent" for d in found) else None

        # Well within the 60 s lease: the restarted replica took its own claim back.
        sent = await eventually(all_sent, timeout=30, interval=0.2, what="every message sent after the restart")
    finally:
        hub.stop()

    emails = {f"<{d['_id']}@mash-hub>" for d in sent if d["channel"] == "email"}
    arrivals = Counter(m.message_id for m in postbox.mail)
    assert set(arrivals) == emails and set(postbox.distinct_mail()) == emails
    repeats = {message_id: n for message_id, n in arrivals.items() if n > 1}
    # Only what was in flight at the kill may arrive twice, and then once more only.
    assert len(repeats) <= in_flight_at_kill and all(n == 2 for n in repeats.values()), repeats
    hooks = {d["_id"] for d in sent if d["channel"] == "webhook"}
    assert set(postbox.distinct_hooks()) == hooks
    log = (tmp_path / "logs" / "notify.log").read_text(encoding="utf-8")
    taken_back = [json.loads(line) for line in log.splitlines() if "claims of a previous run taken back" in line]
    assert taken_back and taken_back[0]["claims"] >= 1
