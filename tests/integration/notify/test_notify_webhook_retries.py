"""Webhook delivery on the real broker and store: retries with backoff and a delivery log, giving up with
notification.failed, and operations re-sending a failed delivery over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from mash_schemas.topics import DECISION_MADE, NOTIFICATION_FAILED, NOTIFICATION_SENT
from pymongo import AsyncMongoClient

from demo.postbox import Postbox
from demo.waiting import eventually
from tests.integration.notify.conftest import RunNotify
from tests.integration.notify.notify_support import (
    MANAGER,
    OPERATIONS,
    decision_made,
    events_by_notification,
    new_referral_id,
    payloads,
    webhook_only_recipients,
)
from tests.support.infrastructure import Infrastructure
from tests.support.topics import TopicRecorder, produce_raw

REFUSED = "WebhookRefused: the receiver answered 503"


def _webhook_env(notify_env: dict[str, str], postbox: Postbox, tmp_path: Path, retry: dict[str, Any]) -> dict[str, str]:
    # Only the assessment team's webhook is a real channel (the referrer gave no address, no agency is
    # consulted), so the postbox's refusals all fall on that one delivery.
    recipients = webhook_only_recipients(tmp_path / "webhook-recipients.yaml", postbox.webhook_port)
    return {**notify_env, "MASH_NOTIFY_RECIPIENTS_FILE": str(recipients), "MASH_NOTIFY_RETRY": json.dumps(retry)}


async def _webhook_delivery(http: httpx.AsyncClient, referral_id: str, status: str | None = None
                            ) -> dict[str, Any] | None:
    params = {"referral_id": referral_id, **({"status": status} if status else {})}
    response = await http.get("/deliveries", params=params, headers=OPERATIONS)
    response.raise_for_status()
    found = [d for d in response.json() if d["channel"] == "webhook"]
    assert len(found) <= 1
    return found[0] if found else None


def _statuses(delivery: dict[str, Any]) -> list[str]:
    return [line["status"] for line in delivery["log"]]


async def test_a_webhook_that_fails_twice_is_retried_with_backoff_and_logged(
    infrastructure: Infrastructure, postbox: Postbox, notify_env: dict[str, str], tmp_path: Path,
    run_notify: RunNotify,
) -> None:
    env = _webhook_env(notify_env, postbox, tmp_path, {"first_delay": "PT0.5S", "max_attempts": 5})
    referral_id = new_referral_id()
    postbox.fail_next_hooks = 2
    async with run_notify(env) as (settings, http):
        assert settings.retry.first_delay == timedelta(seconds=0.5) and settings.retry.max_attempts == 5
        recorder = TopicRecorder(infrastructure.kafka_bootstrap, [settings.topic(NOTIFICATION_SENT)])
        async with recorder.running():
            await produce_raw(infrastructure.kafka_bootstrap, settings.topic(DECISION_MADE),
                              decision_made(referral_id, referrer_email=None, agencies=()).model_dump_json().encode(),
                              key=referral_id.encode())

            async def sent() -> dict[str, Any] | None:
                delivery = await _webhook_delivery(http, referral_id)
                return delivery if delivery and delivery["status"] == "sent" else None

            delivery = await eventually(sent, timeout=30, what="the webhook delivered")
            published = await eventually(
                lambda: _recorded(payloads(recorder.on(settings.topic(NOTIFICATION_SENT))), delivery),
                timeout=30, what="notification.sent for the webhook")

    # The delivery log: two refusals, each with its reason and a retry, then sent, on the third attempt.
    assert _statuses(delivery) == ["queued", "retry_scheduled", "retry_scheduled", "sent"]
    assert [line["reason"] for line in delivery["log"]] == [None, REFUSED, REFUSED, None]
    assert delivery["attempts"] == 3 and delivery["kind"] == "handoff"
    # Backoff: the second retry waited at least the first delay, the third twice that.
    at = [datetime.fromisoformat(line["at"]) for line in delivery["log"]]
    assert at[2] - at[1] >= timedelta(seconds=0.5)
    assert at[3] - at[2] >= timedelta(seconds=1.0)

    # The receiver: refused twice, then exactly one accepted call, signed, keyed by the notification id.
    assert postbox.refused_hooks == 2
    (hook,) = postbox.hooks
    assert hook.path == "/hooks/assessment-team"
    assert hook.signature_valid
    assert hook.idempotency_key == delivery["notification_id"] == hook.payload["notification_id"]
    assert hook.payload["referral_id"] == referral_id and hook.payload["kind"] == "handoff"
    assert published["attempts"] == 3 and published["channel"] == "webhook"


async def test_a_webhook_that_keeps_failing_ends_failed_and_operations_can_resend_it(
    infrastructure: Infrastructure, postbox: Postbox, notify_env: dict[str, str], notify_database: str,
    tmp_path: Path, run_notify: RunNotify,
) -> None:
    env = _webhook_env(notify_env, postbox, tmp_path, {"first_delay": "PT0.2S", "max_attempts": 2})
    referral_id = new_referral_id()
    postbox.fail_next_hooks = 1_000_000
    async with run_notify(env) as (settings, http):
        failed_topic, sent_topic = settings.topic(NOTIFICATION_FAILED), settings.topic(NOTIFICATION_SENT)
        recorder = TopicRecorder(infrastructure.kafka_bootstrap, [failed_topic, sent_topic])
        async with recorder.running():
            await produce_raw(infrastructure.kafka_bootstrap, settings.topic(DECISION_MADE),
                              decision_made(referral_id, referrer_email=None, agencies=()).model_dump_json().encode(),
                              key=referral_id.encode())

            async def failed() -> dict[str, Any] | None:
                return await _webhook_delivery(http, referral_id, status="failed")

            async def failures_published(n: int) -> list[dict[str, Any]] | None:
                found = payloads(recorder.on(failed_topic))  # one per event id
                return found if len(found) >= n else None

            # Retries exhausted: failed, listed as failed, and notification.failed published.
            first = await eventually(failed, timeout=30, what="the webhook delivery given up")
            notification_id = first["notification_id"]
            assert _statuses(first) == ["queued", "retry_scheduled", "failed"]
            assert first["attempts"] == 2 and first["last_error"] == REFUSED
            (failure,) = await eventually(lambda: failures_published(1), timeout=30, what="notification.failed")
            assert failure["notification_id"] == notification_id
            assert failure["attempts"] == 2 and failure["reason"] == REFUSED and failure["kind"] == "handoff"
            listed = await http.get("/deliveries", params={"status": "failed"}, headers=OPERATIONS)
            assert [d["notification_id"] for d in listed.json()] == [notification_id]

            # Re-sending is for operations only, and only for a failed delivery.
            resend = f"/deliveries/{notification_id}/resend"
            why = {"reason": "receiving service's endpoint restored after an outage"}
            assert (await http.post(resend, json=why, headers=MANAGER)).status_code == 403
            assert (await http.post(resend, json=why)).status_code == 401
            assert (await http.post("/deliveries/no-such-id/resend", json=why, headers=OPERATIONS)).status_code == 404
            record = next(d for d in (await http.get("/deliveries", params={"referral_id": referral_id},
                                                     headers=OPERATIONS)).json() if d["channel"] == "record")
            not_failed = await http.post(f"/deliveries/{record['notification_id']}/resend", json=why,
                                         headers=OPERATIONS)
            assert not_failed.status_code == 409

            # Re-sent while the receiver is still down: it fails again, and that second failure is a new event.
            assert (await http.post(resend, json={"reason": "first try after the outage"},
                                    headers=OPERATIONS)).status_code == 202
            again = await eventually(lambda: failures_published(2), timeout=30, what="a second notification.failed")
            assert len(again) == 2 and all(f["notification_id"] == notification_id for f in again)

            # The receiver works again: re-sent once more, it is delivered.
            await eventually(failed, timeout=30, what="the re-sent delivery given up again")
            postbox.fail_next_hooks = 0
            response = await http.post(resend, json=why, headers=OPERATIONS)
            assert response.status_code == 202
            assert response.json() == {"notification_id": notification_id, "status": "queued"}

            async def sent() -> dict[str, Any] | None:
                delivery = await _webhook_delivery(http, referral_id)
                return delivery if delivery and delivery["status"] == "sent" else None

            delivered = await eventually(sent, timeout=30, what="the re-sent webhook delivered")
            published = await eventually(lambda: _recorded(payloads(recorder.on(sent_topic)), delivered),
                                         timeout=30, what="notification.sent after the resend")
            failed_events = events_by_notification(recorder, failed_topic)[notification_id]

    assert _statuses(delivered) == ["queued", "retry_scheduled", "failed",
                                    "resend_requested", "retry_scheduled", "failed",
                                    "resend_requested", "sent"]
    assert delivered["log"][6]["reason"] == why["reason"]
    assert published["attempts"] == 1
    assert len(failed_events) == 2, "each give-up must be its own event, or consumers drop the second as a repeat"
    (hook,) = postbox.hooks
    assert hook.signature_valid and hook.idempotency_key == notification_id
    assert postbox.refused_hooks == 4

    # Each resend is in the audit log: who, as what, why.
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infrastructure.mongo_url)
    try:
        audit = await mongo[notify_database]["audit"].find(
            {"referral_id": referral_id, "action": "resend_delivery"}).sort("at", 1).to_list()
    finally:
        await mongo.close()
    assert [(a["who"], a["roles"], a["why"], a["what"]) for a in audit] == [
        ("Ops on call", "operations", "first try after the outage", {"notification_id": notification_id}),
        ("Ops on call", "operations", why["reason"], {"notification_id": notification_id}),
    ]


async def _recorded(found: list[dict[str, Any]], delivery: dict[str, Any]) -> dict[str, Any] | None:
    """The notification.sent payload for `delivery`, once it is on the topic."""
    return next((p for p in found if p["notification_id"] == delivery["notification_id"]), None)
