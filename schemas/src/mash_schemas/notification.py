"""Notify's record of what it delivered, or failed to deliver, after a decision."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from mash_schemas.common import Model, ShortText
from mash_schemas.envelope import EventEnvelope
from mash_schemas.evolution import EVENT_UPCASTERS, Document
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
    """Delivery was given up after the retries; operations should look and re-send.

    Version 2 (the current one) counts `attempts` as notification.sent does, the first try included, and
    names the cause `reason`, as a dead letter does. Version 1 counted `retries` (tries after the first)
    and called the cause `last_error`: a breaking change for its readers (two required fields renamed,
    one counted differently), hence the new version and `upcast_notification_failed_v1_v2`.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    TOPIC: ClassVar[str] = NOTIFICATION_FAILED
    event_type: Literal["notification.failed"] = "notification.failed"


@EVENT_UPCASTERS.register("notification.failed", from_version=1)
def upcast_notification_failed_v1_v2(document: Document) -> Document:
    """A version 1 notification.failed as version 2: `retries` + 1 is `attempts`, `last_error` is `reason`.

    Only the payload changed. A key already in its version 2 name is left as it is, so a writer that
    mislabelled a version 2 payload as version 1 is read, not broken.
    """
    payload = dict(document.get("payload") or {})
    if "attempts" not in payload and isinstance(payload.get("retries"), int):
        payload["attempts"] = payload.pop("retries") + 1
    if "reason" not in payload and "last_error" in payload:
        payload["reason"] = payload.pop("last_error")
    return {**document, "payload": payload}
