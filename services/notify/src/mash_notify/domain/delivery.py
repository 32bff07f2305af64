"""One outgoing message and its delivery: queued, claimed by a sender, sent, retried or failed, re-sent.

A delivery is queued once per message (its id derives from the decision, the kind and the addressee, never
from the event id). A sender claims a due delivery before sending it, under its replica's name and a
lease, and only the holder of the claim records the result: sent, queued again after the retry policy's
back-off, or failed once the attempts are exhausted. Operations may put a failed delivery back in the
queue, keeping its log. The class is pure: mash_notify.store maps it to its document and writes a claim
conditionally on the document's version, so that of two senders that found the same message due exactly
one holds it.

A claimant that dies between claim and record leaves the message `sending`. Nobody can know whether the
receiving server took it, so it is sent again once the lease runs out (or at once by the same replica when
it restarts), under the same Message-ID / Idempotency-Key, which is how the receiving end recognises it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from mash_schemas.envelope import derived_event_id
from mash_schemas.notification import Notification, NotificationFailed, NotificationFailure, NotificationSent

from mash_notify.domain.messages import OutgoingMessage
from mash_notify.domain.retry_policy import RetryPolicy

DeliveryStatus = Literal["queued", "sending", "sent", "failed"]
PRODUCER = "notify"


class DeliveryNotFailedError(Exception):
    """Only a failed delivery can be re-sent; this one is queued, being sent or sent."""

    def __init__(self, notification_id: str, status: str) -> None:
        super().__init__(f"delivery {notification_id} is {status}, not failed")
        self.status = status


@dataclass(frozen=True)
class LogLine:
    """One line of a delivery's log (what operations read on GET /deliveries)."""

    at: datetime
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class ClaimHold:
    """Who holds a delivery being sent, and until when."""

    replica: str
    token: str
    expires_at: datetime


@dataclass
class Delivery:
    """One message to deliver, its status and its log."""

    message: OutgoingMessage
    status: DeliveryStatus
    attempts: int
    queued_at: datetime
    next_attempt_at: datetime
    log: list[LogLine]
    last_error: str | None = None
    sent_at: datetime | None = None
    resends: int = 0
    claim: ClaimHold | None = None

    @classmethod
    def queued(cls, message: OutgoingMessage, now: datetime) -> Delivery:
        """A message queued for its first attempt at once."""
        return cls(message=message, status="queued", attempts=0, queued_at=now, next_attempt_at=now,
                   log=[LogLine(now, "queued")])

    @property
    def notification_id(self) -> str:
        """The delivery's id: the message's notification id (its Message-ID and Idempotency-Key)."""
        return self.message.notification_id

    def is_due(self, now: datetime) -> bool:
        """Queued and its time has come, or claimed by a sender whose lease ran out (it died mid-send)."""
        if self.status == "queued":
            return self.next_attempt_at <= now
        return self.status == "sending" and self.claim is not None and self.claim.expires_at <= now

    def take_claim(self, replica: str, token: str, expires_at: datetime) -> None:
        """`replica` takes the delivery to send it; the claim holds until `expires_at` (the lease)."""
        self.status = "sending"
        self.claim = ClaimHold(replica, token, expires_at)

    def held_by(self, token: str) -> bool:
        """Whether the claim `token` still holds (nobody took the delivery over after its lease ran out)."""
        return self.status == "sending" and self.claim is not None and self.claim.token == token

    def record_sent(self, now: datetime) -> NotificationSent:
        """The send succeeded: the delivery is sent, and this is the notification.sent event to publish."""
        self.attempts += 1
        self.claim = None
        self.status = "sent"
        self.sent_at = now
        self.log.append(LogLine(now, "sent"))
        message = self.message
        sent = Notification(
            notification_id=message.notification_id, referral_id=message.referral_id,
            decision_id=message.decision_id, kind=message.kind, recipient=message.recipient_label,
            channel=message.channel, sent_at=now, attempts=self.attempts,
        )
        return NotificationSent.build(sent, correlation_id=message.referral_id, producer=PRODUCER,
                                      event_id=derived_event_id(message.notification_id, self._event_name("sent")))

    def record_failure(self, error: str, now: datetime, retry: RetryPolicy,
                       draw: Callable[[], float]) -> NotificationFailed | None:
        """The send failed: queued again after the back-off, or failed when no attempt is left.

        Returns the notification.failed event to publish when the delivery is given up, else None.
        """
        self.attempts += 1
        self.claim = None
        self.last_error = error
        if not retry.exhausted(self.attempts):
            self.status = "queued"
            self.next_attempt_at = retry.next_attempt_at(self.attempts, now, draw=draw)
            self.log.append(LogLine(now, "retry_scheduled", error))
            return None
        self.status = "failed"
        self.log.append(LogLine(now, "failed", error))
        message = self.message
        failure = NotificationFailure(
            notification_id=message.notification_id, referral_id=message.referral_id,
            decision_id=message.decision_id, kind=message.kind, recipient=message.recipient_label,
            channel=message.channel, failed_at=now, attempts=self.attempts, reason=error,
        )
        return NotificationFailed.build(failure, correlation_id=message.referral_id, producer=PRODUCER,
                                        event_id=derived_event_id(message.notification_id,
                                                                  self._event_name("failed")))

    def resend(self, why: str, now: datetime) -> None:
        """Operations put a failed delivery back in the queue; its log is kept and its attempts start again."""
        if self.status != "failed":
            raise DeliveryNotFailedError(self.notification_id, self.status)
        self.status = "queued"
        self.attempts = 0
        self.next_attempt_at = now
        self.resends += 1
        self.log.append(LogLine(now, "resend_requested", why))

    def _event_name(self, outcome: str) -> str:
        """What a delivery's sent/failed event id is derived from: deterministic, so a replayed write yields
        the same id, yet distinct per resend round, since attempts restart at 0 after a resend and a second
        give-up would otherwise repeat the first one's id (and consumers would drop it as a duplicate)."""
        if not self.resends:
            return f"{outcome}/{self.attempts}"
        return f"{outcome}/{self.attempts}/resend-{self.resends}"


@dataclass(frozen=True)
class Claim:
    """A sender's hold on one delivery: it alone may send it and record the result."""

    notification_id: str
    token: str
    delivery: Delivery = field(compare=False)
