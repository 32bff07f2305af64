"""Notify's use cases: queue a decision's messages, deliver them with retries, re-send failed ones.

One document per outgoing message (its id is deterministic from the decision id, recipient and kind,
never from the event id), holding its status and delivery log. Queuing is idempotent, so a redelivered
or re-published decision queues nothing new. A due message is claimed before it is sent (mash_notify.claims)
and marked sent in the same write that queues its notification.sent event, so two senders never both send
it, and a restart never sends again what is recorded as sent. Due messages are sent several at a time
(`send_concurrency`): each send waits on a remote server, and one slow recipient must not hold up the rest.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.http import DomainError
from mash_runtime.outbox import OutboxEntry
from mash_runtime.store import AggregateStore, Change
from mash_schemas.decision import Decision, DecisionMade
from mash_schemas.envelope import derived_event_id
from mash_schemas.notification import (
    Notification,
    NotificationFailed,
    NotificationFailure,
    NotificationKind,
    NotificationSent,
)
from mash_schemas.topics import NOTIFICATION_FAILED, NOTIFICATION_SENT

from mash_notify.channels.email import EmailChannel
from mash_notify.channels.webhook import WebhookChannel
from mash_notify.claims import Claim, Claims, holds, released
from mash_notify.domain.handoff import SealedHubBreachError
from mash_notify.domain.messages import OutgoingMessage, messages_for
from mash_notify.domain.recipients import ReceivingServiceNotConfiguredError, RecipientsConfig
from mash_notify.settings import NotifySettings

log = logging.getLogger(__name__)
PRODUCER = "notify"


class DeliveryNotFound(DomainError):
    """No delivery has that id."""

    status = 404


class DeliveryNotFailed(DomainError):
    """Only a failed delivery can be re-sent."""

    status = 409


class HandoffRefused(DomainError):
    """The decision could not be handed off as it stands (no recipients, or sealed text would leave)."""

    status = 422


class Deliveries:
    """Queues, sends, retries and re-sends the messages that follow a decision."""

    def __init__(
        self,
        settings: NotifySettings,
        store: AggregateStore,
        recipients: RecipientsConfig,
        audit: AuditLog,
        email: EmailChannel,
        webhook: WebhookChannel,
        claims: Claims,
    ) -> None:
        self._settings = settings
        self._store = store
        self._claims = claims
        self._recipients = recipients
        self._audit = audit
        self._email = email
        self._webhook = webhook

    async def queue_decision(self, event: DecisionMade) -> int:
        """Queue the hand-off, the referrer's feedback and the agencies' notices; returns how many are new."""
        now = datetime.now(UTC)
        queued = 0
        for message in messages_for(event, self._recipients):
            queued += int(await self._store.apply(message.notification_id, _queue_once(message, now)))
        log.info("decision queued for delivery",
                 extra={"fields": {"referral_id": event.payload.referral_id, "new_messages": queued}})
        return queued

    async def preview(self, decision: Decision, who: Any) -> list[OutgoingMessage]:
        """The messages a decision would lead to, built by the same code as the real hand-off; nothing queued.

        The MASH manager sees exactly what the receiving service, the referrer and the agencies will be
        sent before confirming. A decision that could not be handed off (a receiving service with no
        recipients, or sealed text that would leave the hub) is refused here as it would be there.
        """
        # The decision service derives decision.made's id from the decision id; the same id gives the
        # same notification ids, so the preview names the very messages that will be sent.
        event = DecisionMade.build(decision, correlation_id=decision.referral_id, producer="decision",
                                   event_id=derived_event_id(decision.decision_id, "made"))
        try:
            messages = messages_for(event, self._recipients)
        except (ReceivingServiceNotConfiguredError, SealedHubBreachError) as exc:
            raise HandoffRefused(str(exc), field="decision") from exc
        await self._audit.record(who=who, action="preview_handoff", referral_id=decision.referral_id,
                                 why="decision preview before sending",
                                 what={"messages": [m.notification_id for m in messages]})
        return messages

    async def take_back_claims(self) -> None:
        """At start-up: what this replica had claimed when it last stopped is due again at once."""
        taken = await self._claims.take_back_own(datetime.now(UTC))
        if taken:
            log.warning("claims of a previous run taken back; their messages go again with the same ids",
                        extra={"fields": {"replica": self._claims.replica, "claims": taken}})

    async def deliver_due(self) -> None:
        """Claim and send every message whose time has come, `send_concurrency` at a time."""
        due = await self._claims.due(datetime.now(UTC), limit=self._settings.sweep_batch)
        gate = asyncio.Semaphore(self._settings.send_concurrency)

        async def one(delivery: dict[str, Any]) -> None:
            async with gate:
                claim = await self._claims.claim(delivery, datetime.now(UTC))
                if claim is not None:  # else another sender has it
                    await self._attempt(claim)

        outcomes = await asyncio.gather(*(one(delivery) for delivery in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                # The store blipped: the claim stays and runs out, and the message goes again then.
                log.error("delivery attempt failed", exc_info=outcome)

    async def _attempt(self, claim: Claim) -> None:
        notification_id = claim.notification_id
        message = OutgoingMessage.model_validate(claim.delivery["message"])
        error: str | None = None
        try:
            async with asyncio.timeout(self._settings.send_timeout_seconds):  # the lease outlasts it
                await self._send(message)
        except Exception as exc:  # every channel failure is a reason to retry, and is logged with it
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = datetime.now(UTC)
        await self._store.apply(notification_id, lambda current: self._after_attempt(current, claim, error, now))
        if error is None and message.kind is NotificationKind.HANDOFF:
            await self._audit.record(
                who="notify", action="release_handoff", referral_id=message.referral_id,
                why="decision hand-off to the receiving service",
                what={"notification_id": notification_id, "to": message.recipient_label, "channel": message.channel},
            )

    async def _send(self, message: OutgoingMessage) -> None:
        if message.channel == "email":
            await self._email.send(notification_id=message.notification_id, to=message.recipient,
                                   subject=message.subject, body=message.body)
        elif message.channel == "webhook":
            assert message.json_body is not None
            await self._webhook.send(notification_id=message.notification_id, url=message.recipient,
                                     json_body=message.json_body, secret_name=message.secret_name)
        # "record": kept in the delivery log only (e.g. a referrer who gave no email address)

    def _after_attempt(
        self, current: dict[str, Any] | None, claim: Claim, error: str | None, now: datetime
    ) -> Change | None:
        if not holds(current, claim):
            # Our lease ran out mid-send and another sender took the message over: it records the result.
            log.warning("claim lost before the result was recorded", extra={"fields": {
                "notification_id": claim.notification_id, "sent": error is None}})
            return None
        assert current is not None
        message = OutgoingMessage.model_validate(current["message"])
        attempts = current["attempts"] + 1
        state = {**released(current), "attempts": attempts}
        if error is None:
            state.update(status="sent", sent_at=now, log=[*current["log"], _log_line(now, "sent", None)])
            sent = Notification(
                notification_id=message.notification_id, referral_id=message.referral_id,
                decision_id=message.decision_id, kind=message.kind, recipient=message.recipient_label,
                channel=message.channel, sent_at=now, attempts=attempts,
            )
            sent_id = derived_event_id(message.notification_id, _event_name("sent", current, attempts))
            event = NotificationSent.build(sent, correlation_id=message.referral_id, producer=PRODUCER,
                                           event_id=sent_id)
            log.info("message delivered", extra={"fields": {"notification_id": message.notification_id,
                                                            "kind": message.kind.value, "attempts": attempts}})
            return Change(state=state, events=[OutboxEntry.of(event, self._settings.topic(NOTIFICATION_SENT))])
        if self._settings.retry.exhausted(attempts):
            state.update(status="failed", last_error=error, log=[*current["log"], _log_line(now, "failed", error)])
            failure = NotificationFailure(
                notification_id=message.notification_id, referral_id=message.referral_id,
                decision_id=message.decision_id, kind=message.kind, recipient=message.recipient_label,
                channel=message.channel, failed_at=now, attempts=attempts, reason=error,
            )
            failed_id = derived_event_id(message.notification_id, _event_name("failed", current, attempts))
            failed = NotificationFailed.build(failure, correlation_id=message.referral_id, producer=PRODUCER,
                                             event_id=failed_id)
            log.warning("delivery given up", extra={"fields": {"notification_id": message.notification_id,
                                                               "attempts": attempts, "reason": error}})
            return Change(state=state, events=[OutboxEntry.of(failed, self._settings.topic(NOTIFICATION_FAILED))])
        next_at = self._settings.retry.next_attempt_at(attempts, now, draw=random.random)
        state.update(status="queued", next_attempt_at=next_at, last_error=error,
                     log=[*current["log"], _log_line(now, "retry_scheduled", error)])
        log.info("delivery will be retried", extra={"fields": {"notification_id": message.notification_id,
                                                               "attempts": attempts, "next_attempt_at": next_at}})
        return Change(state=state)

    async def resend(self, notification_id: str, who: Any, why: str) -> None:
        """Put a failed delivery back in the queue (operations), keeping its log."""
        now = datetime.now(UTC)

        def requeue(current: dict[str, Any] | None) -> Change:
            if current is None:
                raise DeliveryNotFound(f"no delivery {notification_id}", field="notification_id")
            if current["status"] != "failed":
                raise DeliveryNotFailed(f"delivery {notification_id} is {current['status']}, not failed")
            return Change(state={**current, "status": "queued", "attempts": 0, "next_attempt_at": now,
                                 "resends": current.get("resends", 0) + 1,
                                 "log": [*current["log"], _log_line(now, "resend_requested", why)]})

        await self._store.apply(notification_id, requeue)
        delivery = await self._store.get(notification_id)
        assert delivery is not None
        await self._audit.record(who=who, action="resend_delivery", referral_id=delivery["referral_id"], why=why,
                                 what={"notification_id": notification_id})

    async def listing(self, status: str | None, referral_id: str | None) -> list[dict[str, Any]]:
        """Deliveries (without their bodies), newest first."""
        query: dict[str, Any] = {}
        if status:
            query["status"] = status
        if referral_id:
            query["referral_id"] = referral_id
        cursor = self._store.collection.find(query).sort("queued_at", -1).limit(500)
        return [_summary(doc) async for doc in cursor]


def _event_name(outcome: str, current: dict[str, Any], attempts: int) -> str:
    """What a delivery's sent/failed event id is derived from: deterministic, so a replayed write yields
    the same id, yet distinct per resend round, since attempts restart at 0 after a resend and a second
    give-up would otherwise repeat the first one's id (and consumers would drop it as a duplicate)."""
    resends = current.get("resends", 0)
    return f"{outcome}/{attempts}" if not resends else f"{outcome}/{attempts}/resend-{resends}"


def _log_line(at: datetime, status: str, reason: str | None) -> dict[str, Any]:
    return {"at": at, "status": status, "reason": reason}


def _queue_once(message: OutgoingMessage, now: datetime) -> Callable[[dict[str, Any] | None], Change | None]:
    def queue(current: dict[str, Any] | None) -> Change | None:
        if current is not None:
            return None  # already queued (redelivered decision): never queue twice
        return _queued_state(message, now)

    return queue


def _queued_state(message: OutgoingMessage, now: datetime) -> Change:
    return Change(state={
        "notification_id": message.notification_id,
        "referral_id": message.referral_id,
        "decision_id": message.decision_id,
        "kind": message.kind.value,
        "channel": message.channel,
        "to": message.recipient_label,
        "status": "queued",
        "attempts": 0,
        "queued_at": now,
        "next_attempt_at": now,
        "message": message.model_dump(mode="json"),
        "log": [_log_line(now, "queued", None)],
    })


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "notification_id": doc["notification_id"],
        "referral_id": doc["referral_id"],
        "kind": doc["kind"],
        "channel": doc["channel"],
        "to": doc["to"],
        "status": doc["status"],
        "attempts": doc["attempts"],
        "last_error": doc.get("last_error"),
        "log": [{"at": line["at"].isoformat(), "status": line["status"], "reason": line["reason"]}
                for line in doc["log"]],
    }
