"""The referrer's notice when their contact was transferred to another hub: where the concern went.

The referrer hears only where it went and that it is held there (the receiving council takes over the
duty to make enquiries); nothing about the family or any agency's information. The message's id derives
from the transfer's identity, so the same transfer redelivered or republished queues nothing new.
"""

from __future__ import annotations

from mash_schemas import NotificationKind, derived_event_id
from mash_schemas.federation import TransferNotice

from mash_notify.domain.messages import REFERRER, OutgoingMessage, notification_id
from mash_notify.domain.rendering import RenderedText, render_transfer_notice


def transfer_message(notice: TransferNotice) -> OutgoingMessage:
    """The one message a transfer leads to in the sending hub: to the referrer, by email, else kept on record."""
    text: RenderedText = render_transfer_notice(notice)
    referrer = notice.referrer
    label = "member of the public" if referrer.is_member_of_public else f"{referrer.name} ({referrer.role})"
    channel, recipient = ("email", referrer.email) if referrer.email else ("record", REFERRER)
    identity = derived_event_id(notice.transfer_id, "sent")
    return OutgoingMessage(
        notification_id=notification_id(identity, NotificationKind.REFERRER_FEEDBACK, REFERRER, channel, recipient),
        referral_id=notice.referral_id,
        decision_id=notice.transfer_id,  # a transfer closes the case in place of a decision
        kind=NotificationKind.REFERRER_FEEDBACK,
        addressee=REFERRER,
        channel=channel,
        recipient=recipient,
        recipient_label=label[:200],
        subject=text.subject,
        body=text.body,
    )
