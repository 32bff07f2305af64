"""The messages one decision leads to: hand-off, referrer feedback and agency outcome notices, per channel.

Notification ids are derived from the decision itself (its `decision_id`), never from the id of the
event that carried it: a redelivered `decision.made`, or the same decision published again under a new
`event_id`, yields the very same messages, and the delivery log recognises the ones already queued or
sent. A message is one decision, one kind, one addressee, one channel and one recipient.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Literal, Self

from mash_schemas import Decision, DecisionMade, NotificationKind, derived_event_id
from pydantic import BaseModel, ConfigDict, model_validator

from mash_notify.domain.agency_outcome import AgencyOutcomeNotice, agency_outcome_notices
from mash_notify.domain.feedback import referrer_feedback
from mash_notify.domain.handoff import handoff_summary
from mash_notify.domain.recipients import Recipient, RecipientsConfig
from mash_notify.domain.rendering import (
    RenderedText,
    render_agency_outcome,
    render_feedback,
    render_handoff,
)

MessageChannel = Literal["email", "webhook", "record"]

REFERRER = "referrer"


class OutgoingMessage(BaseModel):
    """One message to deliver (or, on the record channel, only to keep).

    `recipient` is the address the channel needs (email address, webhook url, or a label for a record);
    `recipient_label` is what logs and `notification.sent` show, so a member of the public's email
    address is not spread through the hub's events.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    notification_id: str
    referral_id: str
    decision_id: str
    kind: NotificationKind
    addressee: str  # "service:<id>", "agency:<id>", "allocated-worker" or "referrer"
    channel: MessageChannel
    recipient: str
    recipient_label: str
    subject: str
    body: str
    json_body: str | None = None
    secret_name: str | None = None

    @model_validator(mode="after")
    def _webhooks_are_signed_json(self) -> Self:
        is_webhook = self.channel == "webhook"
        if is_webhook != (self.json_body is not None) or is_webhook != (self.secret_name is not None):
            raise ValueError("a webhook message, and only a webhook message, has a json_body and secret_name")
        return self


def decision_identity(decision: Decision) -> uuid.UUID:
    """What makes two `decision.made` events the same decision: the decision id, whatever the event id.

    It is the id the decision service gives its own `decision.made` (derived from the decision id), so the
    notification ids of decisions queued before this rule are unchanged.
    """
    return derived_event_id(decision.decision_id, "made")


def notification_id(
    decision: uuid.UUID, kind: NotificationKind, addressee: str, channel: str, recipient: str
) -> str:
    """A deterministic id for one message of one decision (`decision` is its `decision_identity`).

    The addressee and channel are part of the name as well as the recipient, because two agencies
    may share one mailbox and must still get two distinct notices.
    """
    return str(derived_event_id(decision, f"notification/{kind.value}/{addressee}/{channel}/{recipient}"))


def _canonical_json(content: dict[str, Any]) -> str:
    # Sorted and compact, so the signed bytes are the same on every redelivery.
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class _Builder:
    """Collects the messages of one decision event."""

    def __init__(self, event: DecisionMade) -> None:
        self.event = event
        self.decision: Decision = event.payload
        self.messages: list[OutgoingMessage] = []
        self._seen: set[str] = set()

    def add(
        self,
        *,
        kind: NotificationKind,
        addressee: str,
        channel: MessageChannel,
        recipient: str,
        recipient_label: str,
        text: RenderedText,
        content: dict[str, Any] | None = None,
        secret_name: str | None = None,
    ) -> None:
        message_id = notification_id(decision_identity(self.decision), kind, addressee, channel, recipient)
        if message_id in self._seen:  # the same address configured twice gets one message
            return
        self._seen.add(message_id)
        json_body = None
        if channel == "webhook":
            json_body = _canonical_json(
                {
                    "notification_id": message_id,
                    "kind": kind.value,
                    "referral_id": self.decision.referral_id,
                    "decision_id": self.decision.decision_id,
                    "subject": text.subject,
                    "content": content or {},
                }
            )
        self.messages.append(
            OutgoingMessage(
                notification_id=message_id,
                referral_id=self.decision.referral_id,
                decision_id=self.decision.decision_id,
                kind=kind,
                addressee=addressee,
                channel=channel,
                recipient=recipient,
                recipient_label=recipient_label,
                subject=text.subject,
                body=text.body,
                json_body=json_body,
                secret_name=secret_name,
            )
        )

    def add_for(
        self,
        recipient: Recipient,
        *,
        kind: NotificationKind,
        addressee: str,
        text: RenderedText,
        content: dict[str, Any],
    ) -> None:
        """Every channel a configured recipient has; a record when it is record-only."""
        if recipient.record_only:
            self.add(
                kind=kind,
                addressee=addressee,
                channel="record",
                recipient=addressee,
                recipient_label=addressee,
                text=text,
            )
        for email in recipient.emails:
            self.add(kind=kind, addressee=addressee, channel="email", recipient=email, recipient_label=email, text=text)
        if recipient.webhook is not None:
            self.add(
                kind=kind,
                addressee=addressee,
                channel="webhook",
                recipient=recipient.webhook.url,
                recipient_label=recipient.webhook.url,
                text=text,
                content=content,
                secret_name=recipient.webhook.secret_name,
            )


def _handoffs(builder: _Builder, recipients: RecipientsConfig) -> None:
    decision = builder.decision
    service = recipients.service(decision.receiving_service)  # before anything else: fail loudly
    summary = handoff_summary(decision, recipients.agency_names)
    text = render_handoff(summary)
    content = summary.model_dump(mode="json")
    builder.add_for(
        service,
        kind=NotificationKind.HANDOFF,
        addressee=f"service:{decision.receiving_service}",
        text=text,
        content=content,
    )
    worker = decision.allocated_worker
    if worker is not None and worker.email and worker.email not in service.emails:
        # The social worker already working with the family hears directly, whatever the outcome.
        builder.add(
            kind=NotificationKind.HANDOFF,
            addressee="allocated-worker",
            channel="email",
            recipient=worker.email,
            recipient_label=worker.email,
            text=text,
        )


def _feedback(builder: _Builder) -> None:
    decision = builder.decision
    text = render_feedback(referrer_feedback(decision))
    referrer = decision.referrer
    label = "member of the public" if referrer.is_member_of_public else f"{referrer.name} ({referrer.role})"
    if referrer.email:
        builder.add(
            kind=NotificationKind.REFERRER_FEEDBACK,
            addressee=REFERRER,
            channel="email",
            recipient=referrer.email,
            recipient_label=label[:200],
            text=text,
        )
    else:
        # No address to write to: the feedback is kept, so the hub can give it by phone or letter.
        builder.add(
            kind=NotificationKind.REFERRER_FEEDBACK,
            addressee=REFERRER,
            channel="record",
            recipient=REFERRER,
            recipient_label=label[:200],
            text=text,
        )


def _agency_outcomes(builder: _Builder, recipients: RecipientsConfig) -> None:
    notices: list[AgencyOutcomeNotice] = agency_outcome_notices(
        builder.decision, recipients.agency_names, recipients.service_names
    )
    for notice in notices:
        addressee = f"agency:{notice.agency}"
        text = render_agency_outcome(notice)
        recipient = recipients.agency(notice.agency)
        if recipient is None:
            # An agency missing from configuration must not hold up the hand-off: its notice is kept.
            builder.add(
                kind=NotificationKind.AGENCY_OUTCOME,
                addressee=addressee,
                channel="record",
                recipient=addressee,
                recipient_label=addressee,
                text=text,
            )
            continue
        builder.add_for(
            recipient,
            kind=NotificationKind.AGENCY_OUTCOME,
            addressee=addressee,
            text=text,
            content=notice.model_dump(mode="json"),
        )


def messages_for(decision_event: DecisionMade, recipients: RecipientsConfig) -> list[OutgoingMessage]:
    """Every message `decision_event` leads to: hand-off first, then referrer feedback, then agencies.

    Raises ReceivingServiceNotConfiguredError when the receiving service has no recipients, and
    SealedHubBreachError when the hand-off would carry sealed text; nothing is produced then.
    """
    builder = _Builder(decision_event)
    _handoffs(builder, recipients)
    _feedback(builder)
    _agency_outcomes(builder, recipients)
    return builder.messages
