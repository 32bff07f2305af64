"""One decision, one email per recipient: across a redelivered decision.made and a SIGKILL and restart of
notify running as an OS process, on the real broker and store and a real SMTP server.

The process is killed after its emails are sent and while its webhooks are still waiting for a retry
(the receiver refuses them until then), so the restarted process has work of both kinds in its store:
what is sent must not go again, what is pending must go exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from mash_runtime.settings import HubSettings
from mash_schemas.topics import DECISION_MADE, NOTIFICATION_SENT

from demo.hub import Hub, HubConfig
from demo.postbox import Postbox
from demo.waiting import eventually
from tests.integration.notify.notify_support import (
    AGENCY_EMAILS,
    ASSESSMENT_TEAM_EMAIL,
    OPERATIONS,
    REFERRER_EMAIL,
    decision_made,
    events_by_notification,
    new_referral_id,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw

EXPECTED_EMAILS = {ASSESSMENT_TEAM_EMAIL, REFERRER_EMAIL, *AGENCY_EMAILS.values()}
# The packaged recipients give the assessment team and the police a webhook as well as email.
EXPECTED_HOOKS = {"/hooks/assessment-team", "/hooks/police"}
EXPECTED_DELIVERIES = len(EXPECTED_EMAILS) + len(EXPECTED_HOOKS)


async def _committed(bootstrap: str, group: str, topic: str) -> int:
    """How many messages of `topic` the consumer group has committed (summed over partitions)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset > 0)


def _queued_log_lines(log_file: Path) -> list[dict[str, Any]]:
    """notify's own record of each decision it queued, with how many messages were new."""
    if not log_file.exists():
        return []
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == "decision queued for delivery"]


async def test_one_decision_sends_one_email_per_recipient_across_redelivery_and_restart(
    infrastructure: Infrastructure, namespace: str, postbox: Postbox, notify_database: str, tmp_path: Path,
) -> None:
    bootstrap = infrastructure.kafka_bootstrap
    topics = HubSettings(topic_namespace=namespace)
    recipients = postbox.write_recipients(tmp_path / "recipients.yaml")
    hub = Hub(HubConfig(
        kafka_bootstrap=bootstrap, mongo_url=infrastructure.mongo_url, namespace=namespace, workdir=tmp_path,
        service_env={"notify": {
            **postbox.notify_env(recipients),
            "MASH_NOTIFY_DELIVERY_SWEEP_SECONDS": "0.2",
            # Short, capped backoff: the refused webhooks are retried about every second, for as long as it takes.
            "MASH_NOTIFY_RETRY": json.dumps({"first_delay": "PT0.5S", "max_delay": "PT1S", "max_attempts": 100}),
        }},
    ))
    assert hub.database("notify") == notify_database  # the fixture drops what the process writes
    log_file = tmp_path / "logs" / "notify.log"
    referral_id = new_referral_id()
    event = decision_made(referral_id)
    raw, key = event.model_dump_json().encode(), referral_id.encode()
    decision_topic = topics.topic(DECISION_MADE)
    sent_topic = topics.topic(NOTIFICATION_SENT)

    try:
        await hub.start_service("notify")  # creates its topics
        recorder = TopicRecorder(bootstrap, [sent_topic])
        async with recorder.running(), httpx.AsyncClient(base_url=hub.url("notify"), headers=OPERATIONS) as http:

            async def deliveries() -> list[dict[str, Any]]:
                response = await http.get("/deliveries", params={"referral_id": referral_id})
                response.raise_for_status()
                found: list[dict[str, Any]] = response.json()
                return found

            async def all_sent() -> list[dict[str, Any]] | None:
                found = await deliveries()
                done = len(found) == EXPECTED_DELIVERIES and all(d["status"] == "sent" for d in found)
                return found if done else None

            async def emails_sent_and_webhooks_retrying() -> list[dict[str, Any]] | None:
                found = await deliveries()
                emails = [d for d in found if d["channel"] == "email"]
                hooks = [d for d in found if d["channel"] == "webhook"]
                done = (len(emails) == len(EXPECTED_EMAILS) and all(d["status"] == "sent" for d in emails)
                        and len(hooks) == len(EXPECTED_HOOKS)
                        and all(d["status"] == "queued" and d["attempts"] >= 1 for d in hooks))
                return found if done else None

            def sent_events(n: int) -> Callable[[], Awaitable[bool]]:
                async def published() -> bool:
                    return len(events_by_notification(recorder, sent_topic)) >= n
                return published

            def committed(n: int) -> Callable[[], Awaitable[bool]]:
                async def consumed() -> bool:
                    return await _committed(bootstrap, topics.group("notify.decisions"), decision_topic) >= n
                return consumed

            # The decision, and the very same event again (as the broker redelivers after a lost commit).
            postbox.fail_next_hooks = 1_000_000
            await produce_raw(bootstrap, decision_topic, raw, key=key)
            await produce_raw(bootstrap, decision_topic, raw, key=key)
            before_kill = await eventually(emails_sent_and_webhooks_retrying, timeout=30,
                                           what="emails sent, webhooks waiting for a retry")
            await eventually(sent_events(len(EXPECTED_EMAILS)), timeout=30, what="notification.sent for every email")
            await eventually(committed(2), timeout=30, what="both copies of the decision consumed")

            # Power cut: no shutdown code runs. The receiver recovers; the same decision comes once more.
            assert hub.services["notify"].kill() == -9
            assert postbox.hooks == []  # every call so far was refused
            postbox.fail_next_hooks = 0
            await hub.start_service("notify")
            await produce_raw(bootstrap, decision_topic, raw, key=key)
            await eventually(committed(3), timeout=60, what="the restarted notify consumed the third copy")
            await eventually(all_sent, timeout=30, what="every delivery sent after the restart")
            await eventually(sent_events(EXPECTED_DELIVERIES), timeout=30, what="notification.sent for every delivery")
            sent_after = await deliveries()
    finally:
        hub.stop()

    # The store: the same messages as before the kill, each sent; emails on their first attempt,
    # webhooks after retries that survived the restart; nothing left to send.
    assert sorted(d["notification_id"] for d in sent_after) == sorted(d["notification_id"] for d in before_kill)
    assert all(d["status"] == "sent" for d in sent_after)
    for delivery in sent_after:
        statuses = [line["status"] for line in delivery["log"]]
        if delivery["channel"] == "email":
            assert statuses == ["queued", "sent"] and delivery["attempts"] == 1
        else:
            assert statuses[0] == "queued" and statuses[-1] == "sent"
            assert set(statuses[1:-1]) == {"retry_scheduled"} and delivery["attempts"] == len(statuses) - 1
    queued = _queued_log_lines(log_file)
    assert len(queued) >= 3 and queued[0]["new_messages"] == EXPECTED_DELIVERIES
    assert all(line["new_messages"] == 0 for line in queued[1:]), "a repeated decision queued new messages"

    # The SMTP server: exactly one email per recipient, its Message-ID naming the notification.
    assert sorted(address for mail in postbox.mail for address in mail.to) == sorted(EXPECTED_EMAILS)
    by_kind = {(d["kind"], d["channel"], d["to"]): d["notification_id"] for d in sent_after}
    expected_ids = {
        ASSESSMENT_TEAM_EMAIL: by_kind[("handoff", "email", ASSESSMENT_TEAM_EMAIL)],
        REFERRER_EMAIL: next(d["notification_id"] for d in sent_after if d["kind"] == "referrer_feedback"),
        **{email: by_kind[("agency_outcome", "email", email)] for email in AGENCY_EMAILS.values()},
    }
    for address, notification_id in expected_ids.items():
        (mail,) = postbox.mail_to(address)
        assert mail.message_id == f"<{notification_id}@mash-hub>"
    assert "hand-off" in postbox.mail_to(ASSESSMENT_TEAM_EMAIL)[0].subject
    assert "outcome of your referral" in postbox.mail_to(REFERRER_EMAIL)[0].subject

    # The webhook receiver: one signed call per webhook, keyed by the notification id.
    assert sorted(hook.path for hook in postbox.hooks) == sorted(EXPECTED_HOOKS)
    assert all(hook.signature_valid for hook in postbox.hooks)
    webhook_ids = {d["notification_id"] for d in sent_after if d["channel"] == "webhook"}
    assert {hook.idempotency_key for hook in postbox.hooks} == webhook_ids
    assert postbox.refused_hooks >= len(EXPECTED_HOOKS)

    # The broker: notification.sent once per message — one event id each, whatever the relay repeated.
    published = events_by_notification(recorder, sent_topic)
    assert set(published) == {d["notification_id"] for d in sent_after}
    assert all(len(event_ids) == 1 for event_ids in published.values()), published

