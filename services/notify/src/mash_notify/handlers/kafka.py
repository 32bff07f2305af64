"""Subscribers: every decision the manager's desk makes is queued for hand-off and feedback, and every
transfer to another hub for the referrer's notice."""

from __future__ import annotations

from mash_runtime.consuming import MessageOrigin, MessageRejected
from mash_runtime.service import ServiceRuntime
from mash_schemas.decision import DecisionMade
from mash_schemas.federation import TransferSent
from mash_schemas.topics import DECISION_MADE, TRANSFER_SENT

from mash_notify.deliveries import Deliveries
from mash_notify.domain.handoff import SealedHubBreachError
from mash_notify.domain.recipients import ReceivingServiceNotConfiguredError


def subscribe_all(runtime: ServiceRuntime, deliveries: Deliveries) -> None:
    """Declare notify's consumer."""

    async def on_decision(event: DecisionMade, _: MessageOrigin) -> None:
        try:
            await deliveries.queue_decision(event)
        except ReceivingServiceNotConfiguredError as exc:
            raise MessageRejected(f"receiving service {exc.service!r} has no recipients configured") from exc
        except SealedHubBreachError as exc:
            # Never deliver; set aside for the hub to look at (the reason names ids, not content).
            raise MessageRejected(f"hand-off would release sealed item {exc.item_id} of {exc.agency}") from exc

    async def on_transfer(event: TransferSent, _: MessageOrigin) -> None:
        await deliveries.queue_transfer(event)

    runtime.subscribe(DECISION_MADE, DecisionMade, "notify.decisions", on_decision)
    # Issue 20: a contact transferred to another hub; the referrer is told where their concern went.
    runtime.subscribe(TRANSFER_SENT, TransferSent, "notify.transfers", on_transfer)
