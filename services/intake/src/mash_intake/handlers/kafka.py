"""Kafka subscribers: the police notification feed, transfers from other hubs, and the steps that update a
contact's status (an enquiry, a decision, a transfer away)."""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin, MessageRejected
from mash_runtime.service import ServiceRuntime
from mash_schemas.decision import DecisionMade
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.federation import ContactTransferred, TransferSent
from mash_schemas.police import PoliceNotificationReceived
from mash_schemas.topics import (
    DECISION_MADE,
    ENQUIRY_OPENED,
    FEDERATION_TRANSFER,
    POLICE_NOTIFICATION,
    TRANSFER_SENT,
)

from mash_intake.front_door import FrontDoor, TransferMisaddressed


def subscribe_all(runtime: ServiceRuntime, front_door: FrontDoor) -> None:
    """Declare intake's consumers."""

    async def on_police_notification(event: PoliceNotificationReceived, _: MessageOrigin) -> None:
        await front_door.receive_police_notification(event)

    async def on_enquiry_opened(event: EnquiryOpened, _: MessageOrigin) -> None:
        await front_door.follow_enquiry(event)

    async def on_decision(event: DecisionMade, _: MessageOrigin) -> None:
        await front_door.follow_decision(event)

    async def on_transfer_in(event: ContactTransferred, _: MessageOrigin) -> None:
        try:
            await front_door.receive_transfer(event)
        except TransferMisaddressed as exc:
            raise MessageRejected(str(exc)) from exc  # it will never be this hub's: set aside, not retried

    async def on_transfer_out(event: TransferSent, _: MessageOrigin) -> None:
        await front_door.follow_transfer(event)

    runtime.subscribe(POLICE_NOTIFICATION, PoliceNotificationReceived, "intake.police-feed", on_police_notification)
    runtime.subscribe(ENQUIRY_OPENED, EnquiryOpened, "intake.contact-status", on_enquiry_opened)
    runtime.subscribe(DECISION_MADE, DecisionMade, "intake.contact-outcome", on_decision)
    # Issue 20: this hub's own federation topic (only its intake may read it) and its own transfers out.
    runtime.subscribe(FEDERATION_TRANSFER, ContactTransferred, "intake.transfers-in", on_transfer_in)
    runtime.subscribe(TRANSFER_SENT, TransferSent, "intake.transfers-out", on_transfer_out)
