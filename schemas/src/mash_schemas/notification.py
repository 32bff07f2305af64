"""Notify's record of what it delivered, or failed to deliver, after a decision."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import Model, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.topics import NOTIFICATION_FAILED, NOTIFICATION_SENT


class NotificationKind(StrEnum):
    """The three messages a decision leads to."""

    HANDOFF = "handoff"
    REFERRER_FEEDBACK = "referrer_feedback"
    AGENCY_OUTCOME = "agency_outcome"


class Notification(Model):
    """One delivered message."""

    notification_id: ShortText
    referral_id: ShortText
    decision_id: ShortText
    kind: NotificationKind
    recipient: ShortText
    channel: Literal["email", "webhook", "record"]
    sent_at: AwareDatetime
    attempts: int = Field(ge=1)


class NotificationSent(EventEnvelope[Notification]):
    """A hand-off, feedback or outcome notice was delivered."""

    TOPIC: ClassVar[str] = NOTIFICATION_SENT
    event_type: Literal["notification.sent"] = "notification.sent"


class NotificationFailure(Model):
    """A message that could not be delivered after every retry; it stays re-sendable."""

    notification_id: ShortText
    referral_id: ShortText
    decision_id: ShortText
    kind: NotificationKind
    recipient: ShortText
    channel: Literal["email", "webhook", "record"]
    failed_at: AwareDatetime
    attempts: int = Field(ge=1)
    reason: str


class NotificationFailed(EventEnvelope[NotificationFailure]):
    """Delivery was given up after the retries; operations should look and re-send."""

    TOPIC: ClassVar[str] = NOTIFICATION_FAILED
    event_type: Literal["notification.failed"] = "notification.failed"
