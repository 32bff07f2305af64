"""Kafka subscribers: the police notification feed, and the decisions that update a contact's status."""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin
from mash_runtime.service import ServiceRuntime
from mash_schemas.decision import DecisionMade
from mash_schemas.enquiry import EnquiryOpened
from mash_schemas.police import PoliceNotificationReceived
from mash_schemas.topics import DECISION_MADE, ENQUIRY_OPENED, POLICE_NOTIFICATION

from mash_intake.front_door import FrontDoor


def subscribe_all(runtime: ServiceRuntime, front_door: FrontDoor) -> None:
    """Declare intake's consumers."""

    async def on_police_notification(event: PoliceNotificationReceived, _: MessageOrigin) -> None:
        await front_door.receive_police_notification(event)

    async def on_enquiry_opened(event: EnquiryOpened, _: MessageOrigin) -> None:
        await front_door.follow_enquiry(event)

    async def on_decision(event: DecisionMade, _: MessageOrigin) -> None:
        await front_door.follow_decision(event)

    runtime.subscribe(POLICE_NOTIFICATION, PoliceNotificationReceived, "intake.police-feed", on_police_notification)
    runtime.subscribe(ENQUIRY_OPENED, EnquiryOpened, "intake.contact-status", on_enquiry_opened)
    runtime.subscribe(DECISION_MADE, DecisionMade, "intake.contact-outcome", on_decision)
