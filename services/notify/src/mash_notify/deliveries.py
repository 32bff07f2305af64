"""Notify's use cases: queue a decision's messages, deliver them with retries, re-send failed ones.

One document per outgoing message (its id is deterministic from the decision id, recipient and kind,
never from the event id), holding its status and delivery log. Queuing is idempotent, so a redelivered
or re-published decision queues nothing new. A due message is claimed before it is sent (mash_notify.domain.delivery)
and marked sent in the same write that queues its notification.sent event, so two senders never both send
it, and a restart never sends again what is recorded as sent. Due messages are sent several at a time
(`send_concurrency`): each send waits on a remote server, and one slow recipient must not hold up the rest.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from mash_runtime.audit import AuditLog
from mash_runtime.batching import StoreBatch
from mash_runtime.clock import Clock
from mash_runtime.http import DomainError
from mash_runtime.outbox import OutboxEntry
from mash_schemas.decision import Decision, DecisionMade
from mash_schemas.envelope import derived_event_id
from mash_schemas.federation import TransferSent
from mash_schemas.notification import NotificationKind
from mash_schemas.topics import NOTIFICATION_FAILED, NOTIFICATION_SENT

from mash_notify.channels import Channels
from mash_notify.domain.delivery import Claim, Delivery, DeliveryNotFailedError
from mash_notify.domain.handoff import SealedHubBreachError
from mash_notify.domain.messages import OutgoingMessage, messages_for
from mash_notify.domain.recipients import ReceivingServiceNotConfiguredError, RecipientsConfig
from mash_notify.domain.transfer_notice import transfer_message
from mash_notify.settings import NotifySettings
from mash_notify.store import Found, NotifyStore

log = logging.getLogger(__name__)


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
    """Queues, sends, retries and re-sends the messages that follow a decision, at the time its clock says."""

    def __init__(
        self,
        settings: NotifySettings,
        store: NotifyStore,
        recipients: RecipientsConfig,
        audit: AuditLog,
        channels: Channels,
        clock: Clock,
    ) -> None:
        self._settings = settings
        self._store = store
        self._recipients = recipients
        self._audit = audit
        self._channels = channels
        self._clock = clock
        self.replica = settings.replica_id
        self._lease = timedelta(seconds=settings.claim_lease_seconds)

    async def queue_decision(self, event: DecisionMade) -> int:
        """Queue the hand-off, the referrer's feedback and the agencies' notices; returns how many are new.

        A decision's messages (seven for a typical one) are inserted together, in one bulk write, not with a
        read and an insert each. One already queued (a redelivered decision) is refused on its id and
        recognised as before.
        """
        now = self._clock()
        deliveries = [Delivery.queued(message, now) for message in messages_for(event, self._recipients)]
        outcomes = await StoreBatch().run([partial(self._store.queue, delivery) for delivery in deliveries])
        queued = 0
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # the consumer retries the decision; what went in is recognised then
            queued += int(outcome)
        log.info("decision queued for delivery",
                 extra={"fields": {"referral_id": event.payload.referral_id, "new_messages": queued}})
        return queued

    async def queue_transfer(self, event: TransferSent) -> int:
        """Queue the referrer's notice that their contact went to another hub; 1 if new, 0 for a repeat."""
        queued = int(await self._store.queue(Delivery.queued(transfer_message(event.payload), self._clock())))
        log.info("transfer notice queued", extra={"fields": {"referral_id": event.payload.referral_id,
                                                             "to_hub": event.payload.to_hub, "new": queued}})
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
        taken = await self._store.take_back_claims(self.replica, self._clock())
        if taken:
            log.warning("claims of a previous run taken back; their messages go again with the same ids",
                        extra={"fields": {"replica": self.replica, "claims": taken}})

    async def deliver_due(self) -> None:
        """Claim and send every message whose time has come, `send_concurrency` at a time."""
        due = await self._store.due(self._clock(), limit=self._settings.sweep_batch)
        gate = asyncio.Semaphore(self._settings.send_concurrency)

        async def one(found: Found) -> None:
            async with gate:
                claim = await self._claim(found)
                if claim is not None:  # else another sender has it
                    await self._attempt(claim, found)

        outcomes = await asyncio.gather(*(one(found) for found in due), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                # The store blipped: the claim stays and runs out, and the message goes again then.
                log.error("delivery attempt failed", exc_info=outcome)

    async def _claim(self, found: Found) -> Claim | None:
        """Take `found` for this replica under a lease; None when another sender changed it first."""
        token = uuid.uuid4().hex
        found.delivery.take_claim(self.replica, token, self._clock() + self._lease)
        if not await self._store.save_claim(found):
            return None
        return Claim(notification_id=found.delivery.notification_id, token=token, delivery=found.delivery)

    async def _attempt(self, claim: Claim, claimed: Found) -> None:
        notification_id = claim.notification_id
        message = claim.delivery.message
        error: str | None = None
        try:
            async with asyncio.timeout(self._settings.send_timeout_seconds):  # the lease outlasts it
                await self._send(message)
        except Exception as exc:  # every channel failure is a reason to retry, and is logged with it
            error = f"{type(exc).__name__}: {exc}"[:500]
        now = self._clock()

        def decide(current: Delivery | None) -> tuple[Delivery, list[OutboxEntry]] | None:
            return self._after_attempt(current, claim, error, now)

        await self._store.change_delivery(notification_id, decide, seen=claimed)
        if error is None and message.kind is NotificationKind.HANDOFF:
            await self._audit.record(
                who="notify", action="release_handoff", referral_id=message.referral_id,
                why="decision hand-off to the receiving service",
                what={"notification_id": notification_id, "to": message.recipient_label, "channel": message.channel},
            )

    async def _send(self, message: OutgoingMessage) -> None:
        if message.channel == "email":
            await self._channels.email.send(notification_id=message.notification_id, to=message.recipient,
                                            subject=message.subject, body=message.body)
        elif message.channel == "webhook":
            assert message.json_body is not None
            await self._channels.webhook.send(notification_id=message.notification_id, url=message.recipient,
                                              json_body=message.json_body, secret_name=message.secret_name)
        # "record": kept in the delivery log only (e.g. a referrer who gave no email address)

    def _after_attempt(
        self, current: Delivery | None, claim: Claim, error: str | None, now: datetime
    ) -> tuple[Delivery, list[OutboxEntry]] | None:
        if current is None or not current.held_by(claim.token):
            # Our lease ran out mid-send and another sender took the message over: it records the result.
            log.warning("claim lost before the result was recorded", extra={"fields": {
                "notification_id": claim.notification_id, "sent": error is None}})
            return None
        fields: dict[str, Any] = {"notification_id": current.notification_id}
        if error is None:
            sent = current.record_sent(now)
            log.info("message delivered", extra={"fields": {
                **fields, "kind": current.message.kind.value, "attempts": current.attempts}})
            return current, [OutboxEntry.of(sent, self._settings.topic(NOTIFICATION_SENT))]
        failed = current.record_failure(error, now, self._settings.retry, draw=random.random)
        if failed is not None:
            log.warning("delivery given up", extra={"fields": {
                **fields, "attempts": current.attempts, "reason": error}})
            return current, [OutboxEntry.of(failed, self._settings.topic(NOTIFICATION_FAILED))]
        log.info("delivery will be retried", extra={"fields": {
            **fields, "attempts": current.attempts, "next_attempt_at": current.next_attempt_at}})
        return current, []

    async def resend(self, notification_id: str, who: Any, why: str) -> None:
        """Put a failed delivery back in the queue (operations), keeping its log."""
        now = self._clock()

        def decide(current: Delivery | None) -> tuple[Delivery, list[OutboxEntry]]:
            if current is None:
                raise DeliveryNotFound(f"no delivery {notification_id}", field="notification_id")
            try:
                current.resend(why, now)
            except DeliveryNotFailedError as exc:
                raise DeliveryNotFailed(str(exc)) from exc
            return current, []

        await self._store.change_delivery(notification_id, decide)
        delivery = await self._store.get(notification_id)
        assert delivery is not None
        await self._audit.record(who=who, action="resend_delivery", referral_id=delivery.message.referral_id,
                                 why=why, what={"notification_id": notification_id})

    async def listing(self, status: str | None, referral_id: str | None) -> list[dict[str, Any]]:
        """Deliveries (without their bodies), newest first."""
        return [_summary(delivery) for delivery in await self._store.listing(status, referral_id)]


def _summary(delivery: Delivery) -> dict[str, Any]:
    message = delivery.message
    return {
        "notification_id": message.notification_id,
        "referral_id": message.referral_id,
        "kind": message.kind.value,
        "channel": message.channel,
        "to": message.recipient_label,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "log": [{"at": line.at.isoformat(), "status": line.status, "reason": line.reason} for line in delivery.log],
    }
